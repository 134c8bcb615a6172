import ArgumentParser
import GatewayAPI
import Store
import Templates

// The options that take one of a few words: argument-parser checks the value, lists the words in
// `--help` and names them when a value is wrong (exit 2), from the enums themselves.

/// `send --method`, `templates preview --method`.
extension RecoveryMethod: ExpressibleByArgument {}

/// `list --status`.
extension DeliveryStatus: ExpressibleByArgument {}

/// `list --source`.
extension DeliverySource: ExpressibleByArgument {}

/// `list --template-type`.
extension CourierTemplateType: ExpressibleByArgument {}

/// `audit export --format`.
extension AuditExportFormat: ExpressibleByArgument {}

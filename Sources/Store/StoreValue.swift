import Audit
import Foundation

/// A value as the stores bind it: every store maps these kinds to its own (SQLite keeps a
/// UUID as lower-case text, PostgreSQL as `uuid`); nil is NULL.
package enum StoreValue: Sendable {
    case text(String)
    case integer(Int64)
    case uuid(UUID)
    /// Bytes: a BLOB in SQLite, `bytea` in PostgreSQL.
    case bytes(Data)
}

extension StoreValue {
    /// A time as the stores keep it: whole microseconds since 1970.
    package static func micros(_ date: Date) -> StoreValue { .integer(AuditTime.microseconds(date)) }
}

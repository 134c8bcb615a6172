import Audit
import Foundation

/// `audit`: the HMAC key that chains the audit log, from `RECOVERY_GATEWAY_AUDIT_KEY` (base64) or a file.
public struct AuditSettings: Sendable, Equatable, Decodable {
    /// The key file: read if it exists, created with 32 random bytes by ``resolveKey(createIfMissing:)`` if not.
    public var keyFile: String
    /// The key given directly by `RECOVERY_GATEWAY_AUDIT_KEY`; it takes precedence over ``keyFile``.
    public var key: AuditKey?

    /// `data/audit.key`.
    public static let defaults = AuditSettings(keyFile: "data/audit.key", key: nil)

    /// Builds the settings as given.
    public init(keyFile: String, key: AuditKey?) {
        self.keyFile = keyFile
        self.key = key
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.audit)
        keyFile = try reader.string("key_file", default: Self.defaults.keyFile)
        key = nil
    }

    /// The key: ``key`` if set, else ``keyFile``'s bytes; a missing file is created (mode 0600, with its
    /// directory) holding 32 random bytes when `createIfMissing`, an error naming `audit.key_file` otherwise.
    public func resolveKey(createIfMissing: Bool) throws(ConfigurationError) -> AuditKey {
        if let key { return key }
        let file = URL(fileURLWithPath: keyFile)
        do {
            return createIfMissing ? try AuditKey.loadOrCreate(file: file) : try AuditKey.load(file: file)
        } catch {
            throw ConfigurationError(key: "audit.key_file", problem: error.description)
        }
    }

    /// Checks an existing key file without keeping its content; a missing file is fine (it will be created).
    func checkExistingKeyFile() throws(ConfigurationError) {
        guard key == nil, FileManager.default.fileExists(atPath: keyFile) else { return }
        _ = try resolveKey(createIfMissing: false)
    }
}

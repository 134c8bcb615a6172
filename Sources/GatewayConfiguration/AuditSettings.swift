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
        if !FileManager.default.fileExists(atPath: keyFile) && createIfMissing {
            try Self.create(keyFile)
        }
        return try Self.read(keyFile)
    }

    /// Checks an existing key file without keeping its content; a missing file is fine (it will be created).
    func checkExistingKeyFile() throws(ConfigurationError) {
        guard key == nil, FileManager.default.fileExists(atPath: keyFile) else { return }
        _ = try Self.read(keyFile)
    }

    private static func read(_ path: String) throws(ConfigurationError) -> AuditKey {
        let data = try SecretFile.readData(path, key: "audit.key_file")
        guard let key = AuditKey(bytes: Array(data)) else {
            throw ConfigurationError(
                key: "audit.key_file",
                problem: "the file \(path) holds \(data.count) bytes; the key needs at least \(AuditKey.minimumLength)"
            )
        }
        return key
    }

    private static func create(_ path: String) throws(ConfigurationError) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<AuditKey.minimumLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let directory = (path as NSString).deletingLastPathComponent
        do {
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
        } catch {
            throw ConfigurationError(key: "audit.key_file", problem: "cannot create the directory \(directory)")
        }
        let created = FileManager.default.createFile(
            atPath: path,
            contents: Data(bytes),
            attributes: [.posixPermissions: 0o600]
        )
        guard created else {
            throw ConfigurationError(key: "audit.key_file", problem: "cannot create the file \(path)")
        }
    }
}

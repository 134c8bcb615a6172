import Audit
import Foundation
import KeyFile

/// `audit`: the HMAC key that chains the audit log, from `RECOVERY_GATEWAY_AUDIT_KEY` (base64) or a
/// file, and the Ed25519 key and schedule of the signed checkpoints auditors verify offline.
public struct AuditSettings: Sendable, Equatable, Decodable {
    /// The key file: read if it exists, created with 32 random bytes by ``resolveKey(createIfMissing:)`` if not.
    public var keyFile: String
    /// The key given directly by `RECOVERY_GATEWAY_AUDIT_KEY`; it takes precedence over ``keyFile``.
    public var key: AuditKey?
    /// Earlier keys, rotated away from (``AuditKeyRotation``): they seal nothing, but verify the events
    /// they sealed. Each file must exist (they are never created).
    public var previousKeyFiles: [String]
    /// The Ed25519 signing key file (32-byte seed): read if it exists, created (0600) by `serve` if
    /// not; by default `audit-signing.key` beside ``keyFile``.
    public var signingKeyFile: String
    /// A checkpoint after this many events…
    public var checkpointEveryEvents: Int
    /// …or after this long, whichever comes first (only when events came since the last one).
    public var checkpointInterval: Duration
    /// How many of the last events start-up (and `migrate`, `audit export`) verify with the key
    /// before anything is written; 0 verifies the whole log.
    public var startupVerifyEvents: Int

    /// `keys/audit.key`, `keys/audit-signing.key`, a checkpoint every 1,000 events or minute, the
    /// last 1,000 events verified at start-up. The keys have a directory of their own (created
    /// 0700), not `data/` beside the database: reading or copying the database's directory (a
    /// backup, a support bundle) must not give away the keys with it.
    public static let defaults = AuditSettings(
        keyFile: "keys/audit.key",
        key: nil,
        signingKeyFile: "keys/audit-signing.key",
        checkpointEveryEvents: 1000,
        checkpointInterval: .seconds(60),
        startupVerifyEvents: 1000
    )

    /// Builds the settings as given.
    public init(
        keyFile: String,
        key: AuditKey?,
        previousKeyFiles: [String] = [],
        signingKeyFile: String? = nil,
        checkpointEveryEvents: Int = defaults.checkpointEveryEvents,
        checkpointInterval: Duration = defaults.checkpointInterval,
        startupVerifyEvents: Int = defaults.startupVerifyEvents
    ) {
        self.keyFile = keyFile
        self.key = key
        self.previousKeyFiles = previousKeyFiles
        self.signingKeyFile = signingKeyFile ?? Self.signingKeyFile(beside: keyFile)
        self.checkpointEveryEvents = checkpointEveryEvents
        self.checkpointInterval = checkpointInterval
        self.startupVerifyEvents = startupVerifyEvents
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.audit)
        let defaults = Self.defaults
        keyFile = try reader.string("key_file", default: defaults.keyFile)
        key = nil
        previousKeyFiles = try reader.stringList("previous_key_files") ?? []
        signingKeyFile = try reader.string("signing_key_file", default: Self.signingKeyFile(beside: keyFile))
        checkpointEveryEvents = try reader.int(
            "checkpoint_every_events",
            in: 1...1_000_000,
            default: defaults.checkpointEveryEvents
        )
        checkpointInterval = try reader.duration("checkpoint_interval", default: defaults.checkpointInterval)
        guard checkpointInterval >= .milliseconds(100), checkpointInterval <= .seconds(86_400) else {
            throw reader.error("checkpoint_interval", "must be from 100ms to 24h")
        }
        startupVerifyEvents = try reader.int(
            "startup_verify_events",
            in: 0...1_000_000_000,
            default: defaults.startupVerifyEvents
        )
    }

    /// `audit-signing.key` in the directory of `keyFile`.
    static func signingKeyFile(beside keyFile: String) -> String {
        guard let slash = keyFile.lastIndex(of: "/") else { return "audit-signing.key" }
        return keyFile[...slash] + "audit-signing.key"
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

    /// The current key (``resolveKey(createIfMissing:)``) and the keys of ``previousKeyFiles``, which
    /// must exist; an unreadable one is an error naming `audit.previous_key_files[i]`.
    public func resolveKeyRing(createIfMissing: Bool) throws(ConfigurationError) -> AuditKeyRing {
        let current = try resolveKey(createIfMissing: createIfMissing)
        return AuditKeyRing(current: current, previous: try previousKeys())
    }

    private func previousKeys() throws(ConfigurationError) -> [AuditKey] {
        var keys: [AuditKey] = []
        for (index, file) in previousKeyFiles.enumerated() {
            do {
                keys.append(try AuditKey.load(file: URL(fileURLWithPath: file)))
            } catch {
                throw ConfigurationError(key: "audit.previous_key_files[\(index)]", problem: error.description)
            }
        }
        return keys
    }

    /// The checkpoint signing key from ``signingKeyFile``; a missing file is created (mode 0600) with
    /// a fresh key when `createIfMissing`, an error naming `audit.signing_key_file` otherwise.
    public func resolveSigningKey(createIfMissing: Bool) throws(ConfigurationError) -> AuditSigningKey {
        let file = URL(fileURLWithPath: signingKeyFile)
        do {
            return createIfMissing ? try AuditSigningKey.loadOrCreate(file: file) : try AuditSigningKey.load(file: file)
        } catch {
            throw ConfigurationError(key: "audit.signing_key_file", problem: error.description)
        }
    }

    /// Checks existing key files without keeping their content; a missing key or signing key file is
    /// fine (it will be created), a missing previous key file is not.
    func checkExistingKeyFiles() throws(ConfigurationError) {
        if key == nil, FileManager.default.fileExists(atPath: keyFile) { _ = try resolveKey(createIfMissing: false) }
        if FileManager.default.fileExists(atPath: signingKeyFile) { _ = try resolveSigningKey(createIfMissing: false) }
        _ = try previousKeys()
    }
}

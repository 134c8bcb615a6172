/// A secret read from a file or the environment (a token, a password): prints as `<redacted>` so that
/// string interpolation, `print` and `dump`-style logging cannot leak it by accident.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself; hand it only to the code that sends it.
    public let value: String

    /// Wraps `value`.
    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// The audit log's HMAC key (at least 32 bytes); prints as `<redacted>`.
public struct AuditKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The fewest key bytes accepted: the output size of HMAC-SHA256.
    public static let minimumLength = 32
    /// The key bytes.
    public let bytes: [UInt8]

    /// Wraps `bytes`; `nil` if shorter than ``minimumLength``.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= Self.minimumLength else { return nil }
        self.bytes = bytes
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

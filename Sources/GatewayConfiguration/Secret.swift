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

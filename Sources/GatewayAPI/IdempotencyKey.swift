/// The rule for an `Idempotency-Key` header, checked by the server and, before sending, by the CLI.
public enum IdempotencyKey {
    /// The rule in words, for error messages.
    public static let rule = "1-255 printable ASCII characters"

    /// Whether `key` is 1-255 printable ASCII characters (spaces included).
    public static func isValid(_ key: String) -> Bool {
        (1...255).contains(key.utf8.count) && key.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }
}

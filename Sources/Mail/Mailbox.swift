import DeliveryVocabulary

/// An address with an optional display name, as in `From: Example <no-reply@example.com>`.
public struct Mailbox: Sendable, Hashable {
    /// The name shown by mail clients; may be any Unicode text without CR/LF.
    public let displayName: String?
    /// The address itself.
    public let address: EmailAddress

    /// Builds a mailbox; a display name with CR, LF or other control characters is refused.
    public init(displayName: String? = nil, address: EmailAddress, field: String = "address") throws(MessageError) {
        if let displayName { try HeaderText.check(displayName, field: field) }
        self.displayName = displayName?.isEmpty == true ? nil : displayName
        self.address = address
    }
}

/// What an API key may do (`scopes` in the configuration).
public enum Scope: String, Sendable, Hashable, CaseIterable {
    /// Ask for a recovery email to one of the identity's own recovery addresses.
    case send = "recovery:send"
    /// Also to any address (an override, or an identity without a recovery address).
    case sendAnyRecipient = "recovery:send:any-recipient"
    /// Read deliveries.
    case read = "recovery:read"
    /// Read, export and verify the audit log.
    case auditRead = "audit:read"
}

/// Who is asking, as the HTTP layer authenticated it: the API key's name and scopes, and where
/// the request came from (for the audit log).
public struct Caller: Sendable, Hashable {
    public var name: String
    public var scopes: Set<Scope>
    public var sourceIP: String?
    public var requestID: String?

    public init(name: String, scopes: Set<Scope>, sourceIP: String? = nil, requestID: String? = nil) {
        self.name = name
        self.scopes = scopes
        self.sourceIP = sourceIP
        self.requestID = requestID
    }
}

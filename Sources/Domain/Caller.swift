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

public import JSONValue

/// How a stand-in behaves: which identities it starts with, the base of the links it issues,
/// whether admin calls need a Bearer token, and how code links look.
public struct StandInConfiguration: Sendable {
    /// Identities in Kratos's own JSON format.
    public var identities: [JSONValue]
    /// Base of the links it issues (Kratos's `serve.public.base_url`).
    public var publicURL: String
    /// When set, every admin call needs `Authorization: Bearer <token>` (as on Ory Network).
    public var bearerToken: String?
    /// Answer codes with a relative `recovery_link` (`/ui/recovery?flow=…`) as self-hosted Kratos does.
    public var relativeCodeLinks: Bool

    /// A configuration; by default the embedded identity set and `http://127.0.0.1:4433`.
    public init(
        identities: [JSONValue] = DefaultIdentities.identities,
        publicURL: String = "http://127.0.0.1:4433",
        bearerToken: String? = nil,
        relativeCodeLinks: Bool = false
    ) {
        self.identities = identities
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        self.publicURL = base
        self.bearerToken = bearerToken
        self.relativeCodeLinks = relativeCodeLinks
    }
}

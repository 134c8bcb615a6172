/// Why a sign-in through the identity provider failed. Its text names the check that failed,
/// never a token, a code or a secret: it may be logged.
public struct OIDCError: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The provider's discovery document, keys or token endpoint could not be read or made no sense.
        case provider
        /// The ID token failed a check (signature, issuer, audience, expiry, nonce).
        case invalidToken
        /// The sign-in answer does not belong to this browser's sign-in (state), or is incomplete.
        case invalidResponse
    }

    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue): \(reason)" }
}

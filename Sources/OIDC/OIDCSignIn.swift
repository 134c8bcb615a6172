import Crypto
import Foundation

/// One browser's sign-in in flight, made from a single random secret that only its cookie holds:
/// the `state`, the `nonce` and the PKCE code verifier are each derived from it, so that whichever
/// replica the provider sends the browser back to can check the answer with nothing stored.
///
/// Another origin can neither read nor set the cookie (`__Host-`, `HttpOnly`, `SameSite=Lax`), so
/// an answer meant for another browser fails the `state` check, and a code stolen on the way back
/// cannot be redeemed without the verifier.
public struct OIDCSignIn: Sendable, Equatable {
    /// 256 random bits as base64url: the cookie's value.
    public let secret: String

    public init(secret: String) {
        self.secret = secret
    }

    /// A new sign-in with a fresh secret from the system's secure generator.
    public static func new() -> OIDCSignIn {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return OIDCSignIn(secret: Base64URL.encode(bytes))
    }

    public var state: String { derived("state") }
    public var nonce: String { derived("nonce") }
    /// RFC 7636's code verifier: 43 characters of base64url.
    public var codeVerifier: String { derived("pkce") }
    /// `S256` of the verifier.
    public var codeChallenge: String { Base64URL.encode(Array(SHA256.hash(data: Data(codeVerifier.utf8)))) }

    /// Whether `state` (from the provider's answer) is this sign-in's, compared in constant time.
    public func accepts(state presented: String?) -> Bool {
        guard let presented else { return false }
        return Self.constantTimeEqual(Array(presented.utf8), Array(state.utf8))
    }

    /// The authorization request's URL for `provider` (code flow, PKCE S256, this sign-in's state and nonce).
    public func authorizationURL(
        _ endpoint: String,
        clientID: String,
        redirectURL: String,
        scopes: [String]
    ) throws(OIDCError) -> String {
        guard var components = URLComponents(string: endpoint) else {
            throw OIDCError(.provider, "authorization_endpoint is not a URL")
        }
        components.queryItems =
            (components.queryItems ?? []) + [
                URLQueryItem(name: "response_type", value: "code"),
                URLQueryItem(name: "client_id", value: clientID),
                URLQueryItem(name: "redirect_uri", value: redirectURL),
                URLQueryItem(name: "scope", value: scopes.joined(separator: " ")),
                URLQueryItem(name: "state", value: state),
                URLQueryItem(name: "nonce", value: nonce),
                URLQueryItem(name: "code_challenge", value: codeChallenge),
                URLQueryItem(name: "code_challenge_method", value: "S256"),
            ]
        // URLComponents leaves `+` alone in a query; a scope or value must not turn into a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        guard let url = components.string else { throw OIDCError(.provider, "authorization_endpoint is not a URL") }
        return url
    }

    private func derived(_ purpose: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(purpose.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Base64URL.encode(Array(mac))
    }

    static func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}

/// Base64url without padding (RFC 4648 §5), as JOSE and PKCE write bytes.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

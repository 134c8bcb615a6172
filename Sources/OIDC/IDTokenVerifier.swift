import Foundation
import JWTKit

/// Checks an ID token as OpenID Connect Core §3.1.3.7 asks: signed (with an asymmetric algorithm)
/// by a key of the provider's JWKS, issued by the configured issuer for this client, not expired
/// nor issued in the future, and answering this sign-in's nonce.
public struct IDTokenVerifier: Sendable {
    public let issuer: String
    public let clientID: String
    /// How far the provider's clock may be from ours.
    public let leeway: TimeInterval
    /// The signature algorithms accepted: asymmetric only, so a public key can never be used as an
    /// HMAC secret, and never `none`.
    public static let algorithms: Set = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    ]

    public init(issuer: String, clientID: String, leeway: TimeInterval = 60) {
        self.issuer = issuer
        self.clientID = clientID
        self.leeway = leeway
    }

    /// The token's claims once every check has passed.
    public func verify(
        _ token: String,
        keys: JWTKeyCollection,
        nonce: String,
        now: Date = Date()
    ) async throws(OIDCError) -> IDTokenClaims {
        guard let algorithm = Self.algorithm(of: token), Self.algorithms.contains(algorithm) else {
            throw OIDCError(.invalidToken, "the signature algorithm is missing or not an asymmetric one")
        }
        let claims: IDTokenClaims
        do {
            claims = try await keys.verify(token, as: IDTokenClaims.self)
        } catch {
            throw OIDCError(.invalidToken, "the signature does not verify with the provider's keys")
        }
        guard claims.issuer == issuer else { throw OIDCError(.invalidToken, "the issuer is not the configured one") }
        guard claims.audience.contains(clientID) else {
            throw OIDCError(.invalidToken, "the audience does not include this client")
        }
        if claims.audience.count > 1 || claims.authorizedParty != nil {
            guard claims.authorizedParty == clientID else {
                throw OIDCError(.invalidToken, "the authorized party is not this client")
            }
        }
        guard now.timeIntervalSince(claims.expiresAt) < leeway else {
            throw OIDCError(.invalidToken, "the token has expired")
        }
        guard claims.issuedAt.timeIntervalSince(now) < leeway else {
            throw OIDCError(.invalidToken, "the token was issued in the future")
        }
        guard let presented = claims.nonce,
            OIDCSignIn.constantTimeEqual(Array(presented.utf8), Array(nonce.utf8))
        else {
            throw OIDCError(.invalidToken, "the nonce is not this sign-in's")
        }
        return claims
    }

    /// The `alg` of the token's header, if it has one.
    static func algorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first,
            let data = Base64URL.decode(header),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
    }
}

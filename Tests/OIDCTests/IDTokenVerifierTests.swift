import Foundation
import JWTKit
import Testing

@testable import OIDC

/// ID tokens signed with real keys (ES256, jwt-kit), checked as the console checks them: a good
/// one passes; one signed by another key, for another audience, by another issuer, expired,
/// answering another sign-in's nonce, unsigned or HMAC-signed with the public key is refused.
@Suite struct IDTokenVerifierTests {
    static let issuer = "https://idp.example"
    static let now = Date(timeIntervalSince1970: 1_750_000_000)
    let providerKey = ES256PrivateKey()
    let strangerKey = ES256PrivateKey()
    let signIn = OIDCSignIn.new()
    let verifier = IDTokenVerifier(issuer: Self.issuer, clientID: "recovery-console")

    func claims(_ change: (inout IDTokenClaims) -> Void = { _ in }) -> IDTokenClaims {
        var claims = IDTokenClaims(
            issuer: Self.issuer,
            subject: "agent-1",
            audience: ["recovery-console"],
            expiresAt: Self.now.addingTimeInterval(300),
            issuedAt: Self.now,
            nonce: signIn.nonce,
            name: "Alice Agent",
            texts: ["groups": ["support-l1", "staff"]]
        )
        change(&claims)
        return claims
    }

    /// The provider's published keys: the public half of its key only.
    func published() async -> JWTKeyCollection {
        await JWTKeyCollection().add(ecdsa: providerKey.publicKey, kid: "provider-1")
    }

    func signed(
        _ claims: IDTokenClaims,
        with key: ES256PrivateKey? = nil,
        kid: String = "provider-1"
    ) async throws
        -> String
    {
        let signer = await JWTKeyCollection().add(ecdsa: key ?? providerKey, kid: JWKIdentifier(string: kid))
        return try await signer.sign(claims, kid: JWKIdentifier(string: kid))
    }

    func refusal(_ token: String) async -> OIDCError? {
        do {
            _ = try await verifier.verify(token, keys: await published(), nonce: signIn.nonce, now: Self.now)
            return nil
        } catch {
            return error
        }
    }

    @Test func aGoodTokenPassesWithItsRolesAndNames() async throws {
        let token = try await signed(claims())
        let verified = try await verifier.verify(token, keys: await published(), nonce: signIn.nonce, now: Self.now)
        #expect(verified.subject == "agent-1")
        #expect(verified.name == "Alice Agent")
        #expect(verified.strings("groups") == ["support-l1", "staff"])
        #expect(verified.strings("aud") == ["recovery-console"])
    }

    @Test func aTokenSignedByAnotherKeyIsRefused() async throws {
        // Same kid as the provider's key, so only the signature can tell.
        let token = try await signed(claims(), with: strangerKey)
        #expect(await refusal(token)?.reason == "the signature does not verify with the provider's keys")
        let unknownKid = try await signed(claims(), with: strangerKey, kid: "stranger")
        #expect(await refusal(unknownKid)?.kind == .invalidToken)
    }

    @Test func aTokenForAnotherAudienceOrFromAnotherIssuerIsRefused() async throws {
        let other = try await signed(claims { $0.audience = ["another-client"] })
        #expect(await refusal(other)?.reason == "the audience does not include this client")
        let shared = try await signed(claims { $0.audience = ["recovery-console", "another-client"] })
        #expect(await refusal(shared)?.reason == "the authorized party is not this client")
        let issuer = try await signed(claims { $0.issuer = "https://idp.example.evil" })
        #expect(await refusal(issuer)?.reason == "the issuer is not the configured one")
    }

    @Test func anExpiredTokenOrOneFromTheFutureIsRefused() async throws {
        let expired = try await signed(claims { $0.expiresAt = Self.now.addingTimeInterval(-61) })
        #expect(await refusal(expired)?.reason == "the token has expired")
        let future = try await signed(claims { $0.issuedAt = Self.now.addingTimeInterval(3_600) })
        #expect(await refusal(future)?.reason == "the token was issued in the future")
    }

    @Test func aTokenForAnotherSignInOrWithoutANonceIsRefused() async throws {
        let other = try await signed(claims { $0.nonce = OIDCSignIn.new().nonce })
        #expect(await refusal(other)?.reason == "the nonce is not this sign-in's")
        let none = try await signed(claims { $0.nonce = nil })
        #expect(await refusal(none)?.reason == "the nonce is not this sign-in's")
    }

    @Test func anUnsignedOrSymmetricallySignedTokenIsRefused() async throws {
        let token = try await signed(claims())
        let parts = token.split(separator: ".")
        func header(_ alg: String) -> String {
            Base64URL.encode(Array(#"{"alg":"\#(alg)","kid":"provider-1","typ":"JWT"}"#.utf8))
        }
        #expect(await refusal("\(header("none")).\(parts[1]).")?.kind == .invalidToken)
        #expect(await refusal("\(header("HS256")).\(parts[1]).\(parts[2])")?.kind == .invalidToken)
        #expect(await refusal("not a token")?.kind == .invalidToken)
        // A changed payload under the original signature.
        let forged = Base64URL.encode(Array(#"{"iss":"https://idp.example","sub":"admin"}"#.utf8))
        #expect(await refusal("\(parts[0]).\(forged).\(parts[2])")?.kind == .invalidToken)
    }

    @Test func theSignInsValuesDeriveFromItsSecretAndTheChallengeIsS256() throws {
        let again = OIDCSignIn(secret: signIn.secret)
        #expect(again == signIn && again.state == signIn.state && again.nonce == signIn.nonce)
        #expect(signIn.state != signIn.nonce && signIn.codeVerifier.count == 43)
        #expect(signIn.accepts(state: signIn.state))
        #expect(!signIn.accepts(state: OIDCSignIn.new().state) && !signIn.accepts(state: nil))
        let url = try signIn.authorizationURL(
            "https://idp.example/authorize?tenant=a",
            clientID: "recovery-console",
            redirectURL: "https://gateway.example/console/oidc/callback",
            scopes: ["openid", "profile", "groups"]
        )
        let items = URLComponents(string: url)?.queryItems ?? []
        func item(_ name: String) -> String? { items.first { $0.name == name }?.value }
        #expect(item("tenant") == "a" && item("response_type") == "code" && item("code_challenge_method") == "S256")
        #expect(
            item("scope") == "openid profile groups" && item("state") == signIn.state && item("nonce") == signIn.nonce
        )
        #expect(item("code_challenge") == signIn.codeChallenge && item("code_verifier") == nil)
    }
}

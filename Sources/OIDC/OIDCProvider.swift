import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1

/// The identity provider as the console talks to it: its discovery document (read once, on the
/// first sign-in, so the gateway starts while the provider is down), its signing keys (read again
/// when a token names a key not seen yet, at most once a minute), and its token endpoint.
public actor OIDCProvider {
    /// What discovery tells: the endpoints the code flow uses, and where sign-out goes if offered.
    public struct Metadata: Sendable, Decodable, Equatable {
        public var issuer: String
        public var authorizationEndpoint: String
        public var tokenEndpoint: String
        public var jwksURI: String
        public var endSessionEndpoint: String?

        enum CodingKeys: String, CodingKey {
            case issuer
            case authorizationEndpoint = "authorization_endpoint"
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
            case endSessionEndpoint = "end_session_endpoint"
        }
    }

    public let issuer: String
    public let clientID: String
    private let clientSecret: String
    private let httpClient: HTTPClient
    private let logger: Logger
    private var metadata: Metadata?
    private var keys: JWTKeyCollection?
    private var keysReadAt: Date?

    /// The largest answer read from the provider.
    static let maximumBodySize = 1 << 20
    static let timeout: TimeAmount = .seconds(10)

    public init(issuer: String, clientID: String, clientSecret: String, httpClient: HTTPClient, logger: Logger) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.httpClient = httpClient
        self.logger = logger
    }

    /// The discovery document, read on first use; its `issuer` must be the configured one exactly.
    public func discover() async throws(OIDCError) -> Metadata {
        if let metadata { return metadata }
        var base = Substring(issuer)
        while base.hasSuffix("/") { base = base.dropLast() }
        let url = String(base) + "/.well-known/openid-configuration"
        let found: Metadata
        do {
            found = try JSONDecoder().decode(Metadata.self, from: try await get(url))
        } catch let error as OIDCError {
            throw error
        } catch {
            throw OIDCError(.provider, "the discovery document is not valid JSON of the expected shape")
        }
        guard found.issuer == issuer else {
            throw OIDCError(.provider, "the discovery document names another issuer")
        }
        metadata = found
        return found
    }

    /// Exchanges `code` (with the sign-in's PKCE verifier) for the ID token, authenticating with
    /// the client secret (`client_secret_basic`).
    public func idToken(code: String, codeVerifier: String, redirectURL: String) async throws(OIDCError) -> String {
        let endpoint = try await discover().tokenEndpoint
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let credentials = "\(Self.formEncoded(clientID)):\(Self.formEncoded(clientSecret))"
        request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        let form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURL),
            ("code_verifier", codeVerifier),
        ]
        request.body = .bytes(ByteBuffer(string: form.map { "\($0)=\(Self.formEncoded($1))" }.joined(separator: "&")))
        let body = try await send(request, what: "the token endpoint")
        struct TokenAnswer: Decodable {
            let idToken: String?
            enum CodingKeys: String, CodingKey { case idToken = "id_token" }
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: body), let token = answer.idToken else {
            throw OIDCError(.provider, "the token endpoint's answer has no id_token")
        }
        return token
    }

    /// Verifies `token` with `verifier` against the provider's keys, reading them again once when
    /// the token's key is not among them (the provider rotated its keys).
    public func verify(
        _ token: String,
        with verifier: IDTokenVerifier,
        nonce: String,
        now: Date = Date()
    ) async throws(OIDCError) -> IDTokenClaims {
        let current = try await signingKeys(refresh: false)
        do {
            return try await verifier.verify(token, keys: current, nonce: nonce, now: now)
        } catch  where error.kind == .invalidToken && error.reason.hasPrefix("the signature") {
            guard let readAt = keysReadAt, now.timeIntervalSince(readAt) > 60 else { throw error }
            return try await verifier.verify(token, keys: try await signingKeys(refresh: true), nonce: nonce, now: now)
        }
    }

    /// The URL that ends the agent's session at the provider (RP-initiated logout) and comes back to
    /// `returnURL`; `nil` when the provider offers none.
    public func endSessionURL(idTokenHint: String?, returnURL: String) async -> String? {
        guard let endpoint = try? await discover().endSessionEndpoint, var components = URLComponents(string: endpoint)
        else { return nil }
        var items = components.queryItems ?? []
        items.append(URLQueryItem(name: "client_id", value: clientID))
        items.append(URLQueryItem(name: "post_logout_redirect_uri", value: returnURL))
        if let idTokenHint { items.append(URLQueryItem(name: "id_token_hint", value: idTokenHint)) }
        components.queryItems = items
        return components.string
    }

    private func signingKeys(refresh: Bool) async throws(OIDCError) -> JWTKeyCollection {
        if !refresh, let keys { return keys }
        let url = try await discover().jwksURI
        let collection = JWTKeyCollection()
        do {
            let jwks = try JSONDecoder().decode(JWKS.self, from: try await get(url))
            // A key the collection cannot use (no `kid`, an unknown type) is left out, not fatal.
            for jwk in jwks.keys { _ = try? await collection.add(jwk: jwk) }
        } catch let error as OIDCError {
            throw error
        } catch {
            throw OIDCError(.provider, "the JWKS is not valid JSON of the expected shape")
        }
        keys = collection
        keysReadAt = Date()
        return collection
    }

    private func get(_ url: String) async throws(OIDCError) -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        return try await send(request, what: url)
    }

    private func send(_ request: HTTPClientRequest, what: String) async throws(OIDCError) -> Data {
        do {
            let response = try await httpClient.execute(request, timeout: Self.timeout, logger: logger)
            let body = try await response.body.collect(upTo: Self.maximumBodySize)
            guard response.status == .ok else {
                throw OIDCError(.provider, "\(what) answered \(response.status.code)")
            }
            return Data(body.readableBytesView)
        } catch let error as OIDCError {
            throw error
        } catch {
            throw OIDCError(.provider, "\(what) could not be reached (\(type(of: error)))")
        }
    }

    /// `application/x-www-form-urlencoded` of one value (RFC 6749 §2.3.1 encodes the client
    /// credentials this way too).
    static func formEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

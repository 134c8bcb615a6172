public import AsyncHTTPClient
import Foundation
import JSONValue
import NIOCore
import NIOHTTP1
import RFC3339

/// The Kratos admin API client: identities and recovery links/codes. It wraps an `HTTPClient` it
/// is given (whose pool keeps connections alive); every call is bounded by the configured timeout.
public struct KratosClient: Sendable {
    /// The settings this client calls Kratos with.
    public let configuration: KratosConfiguration
    private let httpClient: HTTPClient

    /// Largest answer read from Kratos (an identity list of 250 identities fits easily).
    public static let maximumBodySize = 8 << 20

    /// A client that sends its calls through `httpClient` (which the caller owns and shuts down).
    public init(configuration: KratosConfiguration, httpClient: HTTPClient) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// `GET /admin/identities/{id}`.
    public func identity(id: String) async throws(KratosError) -> Identity {
        let path = "/admin/identities/" + Self.percentEncoded(id)
        let response = try await call(.GET, path: path, expect: 200, operation: .getIdentity)
        return try Self.decodeIdentity(response.json)
    }

    /// `GET /admin/identities?credentials_identifier=…`: the identities that log in with this
    /// identifier (an email address, a username). Empty when none does.
    public func identities(credentialsIdentifier: String) async throws(KratosError) -> [Identity] {
        let path = "/admin/identities?credentials_identifier=" + Self.percentEncoded(credentialsIdentifier)
        let response = try await call(.GET, path: path, expect: 200, operation: .listIdentities)
        guard case .array(let items) = response.json else { throw Self.malformed("identity list is not an array") }
        var identities: [Identity] = []
        for item in items { identities.append(try Self.decodeIdentity(item)) }
        return identities
    }

    /// `POST /admin/recovery/link` (answers 200): a link that recovers the identity.
    public func createRecoveryLink(
        identityID: String,
        expiresIn: KratosDuration
    ) async throws(KratosError)
        -> RecoveryLink
    {
        let body = Self.recoveryBody(identityID: identityID, expiresIn: expiresIn)
        let response = try await call(.POST, path: "/admin/recovery/link", body: body, expect: 200, operation: .link)
        guard let link = response.json["recovery_link"]?.stringValue else {
            throw Self.malformed("recovery_link missing")
        }
        let expiresAt = try Self.expiresAt(response.json)
        return RecoveryLink(url: try absolute(link), expiresAt: expiresAt)
    }

    /// `POST /admin/recovery/code` (answers 201): a 6-digit code and the flow link where it is entered.
    public func createRecoveryCode(
        identityID: String,
        expiresIn: KratosDuration
    ) async throws(KratosError)
        -> RecoveryCode
    {
        let body = Self.recoveryBody(identityID: identityID, expiresIn: expiresIn)
        let response = try await call(.POST, path: "/admin/recovery/code", body: body, expect: 201, operation: .code)
        guard let link = response.json["recovery_link"]?.stringValue,
            let code = response.json["recovery_code"]?.stringValue
        else { throw Self.malformed("recovery_link or recovery_code missing") }
        let expiresAt = try Self.expiresAt(response.json)
        return RecoveryCode(url: try absolute(link), code: code, expiresAt: expiresAt)
    }

    // MARK: - Plumbing

    /// A JSON answer with the expected status.
    struct Answer {
        let json: JSONValue
    }

    private func call(
        _ method: HTTPMethod,
        path: String,
        body: [UInt8]? = nil,
        expect: Int,
        operation: KratosOperation
    ) async throws(KratosError) -> Answer {
        var request = HTTPClientRequest(url: configuration.adminURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let userAgent = configuration.userAgent {
            request.headers.add(name: "User-Agent", value: userAgent)
        }
        if let token = configuration.bearerToken {
            request.headers.add(name: "Authorization", value: "Bearer " + token)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let deadline = NIODeadline.now() + TimeAmount(configuration.timeout)
        let status: Int
        let headers: HTTPHeaders
        let bytes: ByteBuffer
        do {
            let response = try await httpClient.execute(request, deadline: deadline)
            status = Int(response.status.code)
            headers = response.headers
            bytes = try await response.body.collect(upTo: Self.maximumBodySize)
        } catch {
            throw KratosTransportFailure.classify(error, timeout: configuration.timeout)
        }
        guard status == expect else {
            throw KratosErrorResponse.classify(
                status: status,
                headers: headers,
                body: bytes,
                operation: operation,
                secrets: [configuration.bearerToken].compactMap { $0 }
            )
        }
        do {
            return Answer(json: try JSONValue(parsing: bytes.readableBytesView))
        } catch {
            throw Self.malformed("answer is not JSON")
        }
    }

    /// A relative link (self-hosted code flow: `/ui/recovery?flow=…`) resolved against the public URL.
    func absolute(_ link: String) throws(KratosError) -> String {
        let lowered = link.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") { return link }
        guard let base = configuration.publicURL else {
            throw KratosError(
                kind: .badRequest,
                status: nil,
                reason: "Kratos answered a relative recovery link and no public_url is configured to complete it"
            )
        }
        return link.hasPrefix("/") ? base + link : base + "/" + link
    }

    private static func recoveryBody(identityID: String, expiresIn: KratosDuration) -> [UInt8] {
        let duration = expiresIn.description
        // An identity id (a UUID) and a Go duration need no escaping: written as they are, without
        // an encoder. Anything else goes through the encoder.
        guard identityID.utf8.allSatisfy(isUnescaped), duration.utf8.allSatisfy(isUnescaped) else {
            let object: JSONValue = .object(["identity_id": .string(identityID), "expires_in": .string(duration)])
            return Array((try? bodyEncoder.encode(object)) ?? Data())
        }
        var body: [UInt8] = []
        body.reserveCapacity(40 + identityID.utf8.count + duration.utf8.count)
        body.append(contentsOf: #"{"identity_id":""#.utf8)
        body.append(contentsOf: identityID.utf8)
        body.append(contentsOf: #"","expires_in":""#.utf8)
        body.append(contentsOf: duration.utf8)
        body.append(contentsOf: #""}"#.utf8)
        return body
    }

    /// Letters, digits, `-`, `.` and `_`: octets a JSON string holds as they are.
    private static func isUnescaped(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
    }

    /// The encoder of request bodies, made once.
    private static let bodyEncoder = JSONEncoder()

    private static func decodeIdentity(_ json: JSONValue) throws(KratosError) -> Identity {
        do {
            return try Identity(json: json)
        } catch {
            throw malformed("identity is not in Kratos's format (\(error))")
        }
    }

    private static func expiresAt(_ json: JSONValue) throws(KratosError) -> Date {
        guard let text = json["expires_at"]?.stringValue, let date = RFC3339.parse(text) else {
            throw malformed("expires_at missing or not an RFC 3339 time")
        }
        return date
    }

    /// A 2xx answer that is not what Kratos sends: treated as transient (a truncated or proxied answer).
    private static func malformed(_ what: String) -> KratosError {
        KratosError(kind: .transient, status: nil, reason: "unexpected answer from Kratos: \(what)")
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )

    /// `text` with every octet but the unreserved ones percent-encoded. An identity id (a UUID) has
    /// none to encode: it is answered as it is, without Foundation's encoder (24,000 instructions).
    static func percentEncoded(_ text: String) -> String {
        if text.utf8.allSatisfy(isUnreserved) { return text }
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static func isUnreserved(_ octet: UInt8) -> Bool {
        switch octet {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }
}

/// Which admin call an error answer belongs to: they say "identity not found" differently.
enum KratosOperation: Sendable {
    case getIdentity
    case listIdentities
    case link
    case code
}

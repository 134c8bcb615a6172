import Audit
import Crypto
import Foundation
import JSONValue
import Kratos
import Mail
import Templates
import UUIDText

/// A validated `POST /v1/recovery-emails` body.
///
/// Every field is checked here, before anything else happens, and a bad one is refused with a
/// ``RequestError`` naming it; unknown fields are refused too, so a typo never silently falls back
/// to a default.
public struct RecoveryEmailRequest: Sendable, Equatable {
    /// Whom to recover: a Kratos identity id, or a login identifier to look it up by.
    public enum Target: Sendable, Equatable {
        case identityID(String)
        case email(EmailAddress)
    }

    public var target: Target
    public var method: RecoveryMethod?
    public var template: String?
    public var locale: LanguageTag?
    public var recipient: EmailAddress?
    public var expiresIn: KratosDuration?
    public var reason: String?
    public var transientPayload: JSONValue?

    /// Largest `reason`, in characters.
    public static let maximumReasonLength = 500
    /// Largest `transient_payload`, as compact JSON.
    public static let maximumPayloadBytes = 8 * 1024

    private static let fields: Set<String> = [
        "identity_id", "email", "method", "template", "locale", "recipient", "expires_in", "reason",
        "transient_payload",
    ]

    /// Checks the decoded JSON body.
    public init(json: JSONValue) throws(RequestError) {
        guard case .object(let body) = json else {
            throw RequestError(field: "body", message: "must be a JSON object", kind: .malformed)
        }
        if let unknown = body.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw RequestError(field: unknown, message: "is not a field of this request")
        }
        try self.init(target: Self.target(in: body), fields: body)
    }

    /// The request for `target` with the other fields of `body` (whose names are checked): a
    /// batch item's request is its own target and recipient with the batch's common fields.
    init(target: Target, fields body: [String: JSONValue]) throws(RequestError) {
        try self.init(target: target, transientPayload: body["transient_payload"]) { (field) throws(RequestError) in
            try Self.string(body, field)
        }
    }

    /// The request a form asks for (the console's send form): the identity it is open for and the
    /// fields as typed, each checked by the rules of the JSON body's field of the same name; `nil`
    /// is a field left out. An empty `recipient` is refused, as an empty one in a body is.
    public init(
        identityID: String,
        method: String?,
        template: String?,
        locale: String?,
        recipient: String?,
        reason: String?
    ) throws(RequestError) {
        let given = [
            "method": method, "template": template, "locale": locale, "recipient": recipient, "reason": reason,
        ]
        try self.init(target: Self.identityTarget(identityID), transientPayload: nil) { given[$0] ?? nil }
    }

    /// The request for `target` whose fields `field` reads by their JSON names, checked in a fixed
    /// order (the first bad one is the one named).
    private init(
        target: Target,
        transientPayload payload: JSONValue?,
        field: (String) throws(RequestError) -> String?
    ) throws(RequestError) {
        self.target = target
        if let recipient = try field("recipient") {
            self.recipient = try Self.address(recipient, field: "recipient")
        }
        if let method = try field("method") {
            guard let parsed = RecoveryMethod(rawValue: method) else {
                throw RequestError(field: "method", message: "must be \"link\" or \"code\"")
            }
            self.method = parsed
        }
        if let template = try field("template") {
            guard (1...64).contains(template.utf8.count),
                template.utf8.allSatisfy({
                    (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D
                })
            else { throw RequestError(field: "template", message: "must be 1-64 characters of a-z, 0-9, _ and -") }
            self.template = template
        }
        if let locale = try field("locale") {
            do {
                self.locale = try LanguageTag(locale)
            } catch {
                throw RequestError(field: "locale", message: "must be a BCP 47 language tag such as de-CH")
            }
        }
        if let expiresIn = try field("expires_in") {
            let duration: KratosDuration
            do {
                duration = try KratosDuration(parsing: expiresIn)
            } catch {
                throw RequestError(field: "expires_in", message: "must be a positive duration such as 1h, 90m or 1h30m")
            }
            guard LinkLifetime.isAccepted(duration.duration) else {
                throw RequestError(field: "expires_in", message: "must be \(LinkLifetime.acceptedRange)")
            }
            self.expiresIn = duration
        }
        reason = try Self.reason(try field("reason"))
        if let payload {
            guard case .object = payload else {
                throw RequestError(field: "transient_payload", message: "must be a JSON object")
            }
            let size = (try? JSONEncoder().encode(payload).count) ?? Int.max
            guard size <= Self.maximumPayloadBytes else {
                throw RequestError(field: "transient_payload", message: "must be at most 8 KiB as JSON")
            }
            self.transientPayload = payload
        }
    }

    /// The `identity_id` or the `email` of `body`: exactly one of them.
    static func target(in body: [String: JSONValue]) throws(RequestError) -> Target {
        switch (try Self.string(body, "identity_id"), try Self.string(body, "email")) {
        case (let id?, nil):
            return try identityTarget(id)
        case (nil, let email?):
            return .email(try Self.address(email, field: "email"))
        case (nil, nil):
            throw RequestError(field: "identity_id", message: "one of identity_id or email is required")
        case (.some, .some):
            throw RequestError(field: "email", message: "give identity_id or email, not both")
        }
    }

    /// A digest of what the request asks for, which an idempotency key's claim keeps: two requests
    /// ask for the same email exactly when their fingerprints are equal. (The API keeps the digest
    /// of the body as sent instead, ``AcceptService/hash(_:)``, so that the same bytes retried match
    /// whatever version of the gateway reads them.)
    var fingerprint: String {
        let target: String
        switch self.target {
        case .identityID(let id): target = "identity_id:" + id
        case .email(let address): target = "email:" + address.description
        }
        let parts: [String?] = [
            target, method?.rawValue, template, locale?.description, recipient?.description,
            expiresIn.map { String($0.nanoseconds) }, reason, transientPayload.map(AcceptService.hash),
        ]
        var hasher = SHA256()
        for part in parts {
            // Each part is marked present or absent and carries its length: no two lists of parts
            // write the same bytes.
            guard let part else {
                hasher.update(data: [0])
                continue
            }
            let bytes = Array(part.utf8)
            hasher.update(data: [1])
            withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        return Hex.encode(hasher.finalize())
    }

    /// The target of an `identity_id`: it must be a UUID.
    static func identityTarget(_ id: String) throws(RequestError) -> Target {
        guard UUID(text: id) != nil else {
            throw RequestError(field: "identity_id", message: "must be a UUID")
        }
        return .identityID(id.lowercased())
    }

    /// The `reason` of `body`, if any (see ``reason(_:)``).
    static func reason(in body: [String: JSONValue]) throws(RequestError) -> String? {
        try reason(try string(body, "reason"))
    }

    /// A `reason` as given: at most ``maximumReasonLength`` characters, no control character.
    static func reason(_ given: String?) throws(RequestError) -> String? {
        guard let reason = given else { return nil }
        guard reason.count <= maximumReasonLength else {
            throw RequestError(field: "reason", message: "must be at most \(maximumReasonLength) characters")
        }
        guard !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RequestError(field: "reason", message: "must not contain control characters (line breaks, tabs, …)")
        }
        return reason
    }

    static func string(_ body: [String: JSONValue], _ field: String) throws(RequestError) -> String? {
        switch body[field] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw RequestError(field: field, message: "must be a string")
        }
    }

    static func address(_ text: String, field: String) throws(RequestError) -> EmailAddress {
        do {
            return try EmailAddress(text, field: field)
        } catch {
            throw RequestError(field: field, message: "must be an email address (\(error.reason))")
        }
    }
}

/// A request the gateway refuses as it stands: the field at fault and what is wrong with it.
/// The API answers it with a problem naming the field; never echoes the value.
public struct RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong: the body is not a request at all, or a field of a well-formed one is bad.
    public enum Kind: Sendable, Equatable {
        case malformed
        case invalidValue
    }

    /// The JSON field (or `body`, or a header name) at fault.
    public let field: String
    public let message: String
    public let kind: Kind

    public init(field: String, message: String, kind: Kind = .invalidValue) {
        self.field = field
        self.message = message
        self.kind = kind
    }

    public var description: String { "\(field): \(message)" }
}

extension MessageError {
    /// What is wrong, without the field name.
    var reason: String {
        switch self {
        case .lineBreakInHeader: return "line breaks are not allowed"
        case .controlCharacterInHeader: return "control characters are not allowed"
        case .invalidAddress(_, let reason): return reason
        case .invalidMessageID(let reason): return reason
        }
    }
}

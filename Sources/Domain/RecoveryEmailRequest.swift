import Foundation
import JSONValue
import Kratos
import Mail
import Templates

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
        self.target = target
        if let recipient = try Self.string(body, "recipient") {
            self.recipient = try Self.address(recipient, field: "recipient")
        }
        if let method = try Self.string(body, "method") {
            guard let parsed = RecoveryMethod(rawValue: method) else {
                throw RequestError(field: "method", message: "must be \"link\" or \"code\"")
            }
            self.method = parsed
        }
        if let template = try Self.string(body, "template") {
            guard (1...64).contains(template.utf8.count),
                template.utf8.allSatisfy({
                    (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D
                })
            else { throw RequestError(field: "template", message: "must be 1-64 characters of a-z, 0-9, _ and -") }
            self.template = template
        }
        if let locale = try Self.string(body, "locale") {
            do {
                self.locale = try LanguageTag(locale)
            } catch {
                throw RequestError(field: "locale", message: "must be a BCP 47 language tag such as de-CH")
            }
        }
        if let expiresIn = try Self.string(body, "expires_in") {
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
        reason = try Self.reason(in: body)
        if let payload = body["transient_payload"] {
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
            guard UUID(uuidString: id) != nil else {
                throw RequestError(field: "identity_id", message: "must be a UUID")
            }
            return .identityID(id.lowercased())
        case (nil, let email?):
            return .email(try Self.address(email, field: "email"))
        case (nil, nil):
            throw RequestError(field: "identity_id", message: "one of identity_id or email is required")
        case (.some, .some):
            throw RequestError(field: "email", message: "give identity_id or email, not both")
        }
    }

    /// The `reason` of `body`, if any: at most ``maximumReasonLength`` characters, no control
    /// character.
    static func reason(in body: [String: JSONValue]) throws(RequestError) -> String? {
        guard let reason = try string(body, "reason") else { return nil }
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

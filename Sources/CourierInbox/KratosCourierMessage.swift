import Foundation
import JSONValue
import Templates

/// One email of Kratos's HTTP courier as the gateway receives it, checked so that it can be sent:
/// either the whole `ctx` document (the body `function(ctx) ctx`) or the flat document of Kratos's
/// shipped default body. Holds the link or code and the address, so its description shows neither.
/// What Kratos posts: Tests/Fixtures/kratos-courier/README.md.
public struct KratosCourierMessage: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// Which of the two documents an operator may configure this came as.
    public enum Shape: String, Sendable {
        /// Kratos's whole `ctx` (`httpDataModel`): `template_data`, `request_headers`, `message_type`, ….
        case context
        /// The flat document of Kratos's default body: `recipient`, `template_type`, `to`,
        /// `recovery_code`, `recovery_url`, `verification_url`, `verification_code`, `subject`, `body`.
        case flat
    }

    /// The members of the flat document that come from `template_data`.
    static let flatDataKeys = ["to", "recovery_code", "recovery_url", "verification_url", "verification_code"]

    public let shape: Shape
    public let templateType: CourierTemplateType
    /// The address to send to (Kratos's `recipient`, equal to `template_data.to`).
    public let recipient: String
    /// What Kratos rendered, used when the gateway has no template for the type.
    public let subject: String?
    /// The plain-text body Kratos rendered.
    public let body: String?
    /// The HTML body Kratos rendered (v25.4+, context shape only).
    public let htmlBody: String?
    /// Kratos's `template_data` (for the flat shape: an object of its non-null data members).
    public let templateData: JSONValue
    /// The end user's request headers Kratos passed on (v26.2+, code types), names as sent.
    public let requestHeaders: [String: [String]]
    /// Minutes the link or code is valid for (v25.4+, `*_valid` types of the context shape).
    public let expiresInMinutes: Int?
    /// The document as it was posted, for sealing.
    public let document: JSONValue

    /// Checks `document`; a document the gateway can never send is a ``CourierMessageError`` naming the
    /// member.
    public init(document: JSONValue) throws(CourierMessageError) {
        guard case .object(let members) = document else {
            throw CourierMessageError(.wrongType, field: "", "the document must be a JSON object")
        }
        if members["template_type"] == nil,
            let key = ["TemplateType", "Recipient", "TemplateData"].first(where: { members[$0] != nil })
        {
            throw CourierMessageError(
                .unsupportedKratosVersion,
                field: key,
                "PascalCase members are Kratos v1.0's courier document, which is not supported; "
                    + "use Kratos v1.1 or later"
            )
        }
        let root = Members(members, path: "")
        if let messageType = try root.string("message_type"), messageType != "email" {
            throw CourierMessageError(
                .unsupportedMessageType,
                field: "message_type",
                "is not `email`; the gateway sends only email messages"
            )
        }
        guard let typeName = try root.string("template_type") else {
            throw CourierMessageError(.missing, field: "template_type", "is required")
        }
        guard let templateType = CourierTemplateType(rawValue: typeName) else {
            throw CourierMessageError(
                .unknownTemplateType,
                field: "template_type",
                "is not an email template type the gateway knows ("
                    + CourierTemplateType.allCases.map(\.rawValue).joined(separator: ", ") + ")"
            )
        }
        guard let recipient = try root.string("recipient"), !recipient.isEmpty else {
            throw CourierMessageError(.missing, field: "recipient", "is required")
        }
        self.templateType = templateType
        self.recipient = recipient
        self.subject = try root.string("subject")
        self.body = try root.string("body")
        self.document = document
        if members["template_data"] != nil {
            shape = .context
            htmlBody = try root.string("html_body")
            requestHeaders = try Self.headers(members["request_headers"])
            let data = try root.object("template_data") ?? [:]
            templateData = .object(data)
            expiresInMinutes = try Self.checkData(Members(data, path: "template_data"), templateType, recipient)
        } else {
            shape = .flat
            htmlBody = nil
            requestHeaders = [:]
            expiresInMinutes = nil
            var data: [String: JSONValue] = [:]
            for key in Self.flatDataKeys {
                if let value = try root.string(key) { data[key] = .string(value) }
            }
            templateData = .object(data)
            try Self.checkFlat(Members(data, path: ""), templateType, recipient, body: body)
        }
    }

    /// Decodes and checks a posted JSON body.
    public init(json: Data) throws(CourierMessageError) {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: json)
        } catch {
            throw CourierMessageError(.wrongType, field: "", "the body is not a JSON document")
        }
        try self.init(document: document)
    }

    /// The link or code the email exists to deliver (``CourierTemplateType/secretKey``), when the
    /// document carries it: `nil` for the `*_invalid` types, and for `login_code_valid` and
    /// `registration_code_valid` in the flat shape (Kratos's default body drops those codes; only the
    /// body Kratos rendered has them).
    public var secret: String? { templateType.secretKey.flatMap { templateData[$0]?.stringValue } }

    /// Every secret value the document carries for its type (the code and, for
    /// `verification_code_valid`, the link that embeds it).
    public var secrets: [String] { templateType.secretKeys.compactMap { templateData[$0]?.stringValue } }

    /// Whether a gateway template can render this message: it carries the secret its type needs.
    public var isRenderable: Bool { templateType.secretKey == nil || secret != nil }

    /// The instant after which the message must never be sent: `receivedAt` plus `expires_in_minutes`;
    /// `nil` when the document does not say (the flat shape, Kratos before v25.4, `*_invalid`). Kratos
    /// truncates the lifespan to whole minutes and made the link before it posted, so this errs late
    /// by at most a minute plus the courier's queueing; Kratos refuses an expired link anyway.
    public func expiry(receivedAt: Date) -> Date? {
        expiresInMinutes.map { receivedAt.addingTimeInterval(TimeInterval($0) * 60) }
    }

    public var description: String {
        "KratosCourierMessage(\(templateType.rawValue), shape: \(shape.rawValue), redacted)"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["templateType": templateType.rawValue, "shape": shape.rawValue])
    }

    /// Checks `template_data` of the context shape; returns `expires_in_minutes`.
    private static func checkData(
        _ data: Members,
        _ type: CourierTemplateType,
        _ recipient: String
    ) throws(CourierMessageError) -> Int? {
        if let to = try data.string("to"), to != recipient {
            throw CourierMessageError(.invalid, field: data.path("to"), "differs from `recipient`")
        }
        for key in type.secretKeys {
            let value = try data.string(key)
            if key == type.secretKey, value?.isEmpty ?? true {
                throw CourierMessageError(.missing, field: data.path(key), "a \(type.rawValue) message needs it")
            }
        }
        _ = try data.string("request_url")
        _ = try data.object("identity")
        _ = try data.object("traits")
        _ = try data.object("transient_payload")
        guard let minutes = data.members["expires_in_minutes"], minutes != .null else { return nil }
        guard case .number(let value) = minutes, value.rounded() == value, abs(value) < 1e9 else {
            throw CourierMessageError(.wrongType, field: data.path("expires_in_minutes"), "must be a whole number")
        }
        guard value > 0 else {
            throw CourierMessageError(
                .invalid,
                field: data.path("expires_in_minutes"),
                "is \(Int(value)): the link or code expires before it can be delivered"
            )
        }
        return Int(value)
    }

    /// Checks the flat shape: its secret member, or for the codes it lacks, Kratos's rendered body.
    private static func checkFlat(
        _ data: Members,
        _ type: CourierTemplateType,
        _ recipient: String,
        body: String?
    ) throws(CourierMessageError) {
        if let to = try data.string("to"), to != recipient {
            throw CourierMessageError(.invalid, field: "to", "differs from `recipient`")
        }
        guard let key = type.secretKey else { return }
        if flatDataKeys.contains(key) {
            if try data.string(key)?.isEmpty ?? true {
                throw CourierMessageError(.missing, field: key, "a \(type.rawValue) message needs it")
            }
        } else if body?.isEmpty ?? true {
            throw CourierMessageError(
                .missing,
                field: "body",
                "Kratos's default body carries no `\(key)`, so the body Kratos rendered is required"
            )
        }
    }

    /// `request_headers`: an object of string arrays (Go's `http.Header`), or `null`.
    private static func headers(_ value: JSONValue?) throws(CourierMessageError) -> [String: [String]] {
        guard let value, value != .null else { return [:] }
        guard case .object(let members) = value else {
            throw CourierMessageError(.wrongType, field: "request_headers", "must be an object of string arrays")
        }
        var headers: [String: [String]] = [:]
        for (name, values) in members {
            guard case .array(let items) = values else {
                throw CourierMessageError(.wrongType, field: "request_headers.\(name)", "must be an array of strings")
            }
            var strings: [String] = []
            for item in items {
                guard let text = item.stringValue else {
                    throw CourierMessageError(
                        .wrongType,
                        field: "request_headers.\(name)",
                        "must be an array of strings"
                    )
                }
                strings.append(text)
            }
            headers[name] = strings
        }
        return headers
    }
}

/// The members of one JSON object with typed, path-naming accessors (`null` counts as absent).
struct Members {
    let members: [String: JSONValue]
    let prefix: String

    init(_ members: [String: JSONValue], path: String) {
        self.members = members
        self.prefix = path
    }

    func path(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }

    func string(_ key: String) throws(CourierMessageError) -> String? {
        guard let value = members[key], value != .null else { return nil }
        guard let text = value.stringValue else {
            throw CourierMessageError(.wrongType, field: path(key), "must be a string")
        }
        return text
    }

    func object(_ key: String) throws(CourierMessageError) -> [String: JSONValue]? {
        guard let value = members[key], value != .null else { return nil }
        guard case .object(let object) = value else {
            throw CourierMessageError(.wrongType, field: path(key), "must be an object")
        }
        return object
    }
}

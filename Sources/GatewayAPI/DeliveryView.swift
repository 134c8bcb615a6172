import Audit
import Foundation
import JSONValue
import RFC3339
import Store
import UUIDText

/// A delivery as the API shows it: the recipient masked, no secret anywhere.
public struct DeliveryView: Sendable, Codable, Equatable, APIJSONEncodable {
    /// `last_error`: the failure class and its sanitized text.
    public struct LastError: Sendable, Codable, Equatable {
        public var `class`: String
        public var message: String
    }

    public var id: String
    public var status: String
    public var failure: String?
    /// `nil` for a courier message without an identity.
    public var identityID: String?
    public var recipient: String
    /// `nil` for a courier message of a `*_invalid` type.
    public var method: String?
    /// `nil` for a courier message (its template type decides).
    public var template: String?
    /// `admin_api` or `kratos_courier`.
    public var source: String
    /// The Kratos courier template type; `nil` for `admin_api`.
    public var templateType: String?
    public var locale: String?
    public var attempts: Int
    public var nextAttemptAt: String?
    public var lastError: LastError?
    public var smtpReply: String?
    public var messageID: String
    public var createdAt: String
    public var sentAt: String?

    enum CodingKeys: String, CodingKey {
        case id, status, failure, recipient, method, template, locale, attempts, source
        case templateType = "template_type"
        case identityID = "identity_id"
        case nextAttemptAt = "next_attempt_at"
        case lastError = "last_error"
        case smtpReply = "smtp_reply"
        case messageID = "message_id"
        case createdAt = "created_at"
        case sentAt = "sent_at"
    }

    public init(_ record: Delivery) {
        id = record.id.lowercasedString
        status = record.status.rawValue
        failure = record.failure?.rawValue
        identityID = record.identityID?.lowercasedString
        recipient = AuditChain.mask(record.recipient.description)
        method = record.method?.rawValue
        template = record.template
        source = record.source.rawValue
        templateType = record.templateType?.rawValue
        locale = record.locale
        attempts = record.attempts
        nextAttemptAt = record.status.isFinal ? nil : record.nextAttemptAt.map(Timestamp.format)
        lastError = record.lastErrorClass.map { LastError(class: $0.rawValue, message: record.lastError ?? "") }
        smtpReply = record.smtpReply
        messageID = record.messageID.value
        createdAt = Timestamp.format(record.createdAt)
        sentAt = record.sentAt.map(Timestamp.format)
    }

    /// The view as ``APIJSON/encoder`` writes it, octet for octet (keys sorted, `nil` fields left
    /// out, slashes as they are), without `JSONEncoder`: every accepted request answers one, and the
    /// encoder cost it about 90,000 instructions.
    public func json() -> Data {
        var writer = JSONObjectWriter()
        writer.field("attempts", attempts)
        writer.field("created_at", createdAt)
        writer.field("failure", failure)
        writer.field("id", id)
        writer.field("identity_id", identityID)
        writer.field("last_error", lastError) { object, error in
            object.field("class", error.class)
            object.field("message", error.message)
        }
        writer.field("locale", locale)
        writer.field("message_id", messageID)
        writer.field("method", method)
        writer.field("next_attempt_at", nextAttemptAt)
        writer.field("recipient", recipient)
        writer.field("sent_at", sentAt)
        writer.field("smtp_reply", smtpReply)
        writer.field("source", source)
        writer.field("status", status)
        writer.field("template", template)
        writer.field("template_type", templateType)
        return Data(writer.finished())
    }
}

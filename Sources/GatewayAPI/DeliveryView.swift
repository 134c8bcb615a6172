import Audit
import Foundation
import RFC3339
import Store

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
    public var identityID: String
    public var recipient: String
    public var method: String
    public var template: String
    public var locale: String?
    public var attempts: Int
    public var nextAttemptAt: String?
    public var lastError: LastError?
    public var smtpReply: String?
    public var messageID: String
    public var createdAt: String
    public var sentAt: String?

    enum CodingKeys: String, CodingKey {
        case id, status, failure, recipient, method, template, locale, attempts
        case identityID = "identity_id"
        case nextAttemptAt = "next_attempt_at"
        case lastError = "last_error"
        case smtpReply = "smtp_reply"
        case messageID = "message_id"
        case createdAt = "created_at"
        case sentAt = "sent_at"
    }

    public init(_ record: DeliveryRecord) {
        id = record.id.uuidString.lowercased()
        status = record.status.rawValue
        failure = record.failure?.rawValue
        identityID = record.identityID.uuidString.lowercased()
        recipient = AuditChain.mask(record.recipient)
        method = record.method.rawValue
        template = record.template
        locale = record.locale
        attempts = record.attempts
        nextAttemptAt = record.status.isFinal ? nil : record.nextAttemptAt.map(Timestamp.format)
        lastError = record.lastErrorClass.map { LastError(class: $0.rawValue, message: record.lastError ?? "") }
        smtpReply = record.smtpReply
        messageID = record.messageID
        createdAt = Timestamp.format(record.createdAt)
        sentAt = record.sentAt.map(Timestamp.format)
    }

    /// The JSON the API answers with (keys sorted, so a stored answer replays byte for byte).
}

/// One page of a list as the API answers it: `{"items": [...], "next_cursor": "…" | null}`.
public struct PageView<Item: Encodable & Sendable>: Sendable, APIJSONEncodable {
    public var items: [Item]
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        // `null` on the last page, rather than a missing key.
        try container.encode(nextCursor, forKey: .nextCursor)
    }

}

/// How the gateway writes JSON (answers, problems, log lines): keys sorted, so a stored answer
/// replays byte for byte, and slashes left unescaped.
public enum APIJSON {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// A value the API answers with as JSON.
public protocol APIJSONEncodable: Encodable {}

extension APIJSONEncodable {
    /// The value as the API writes it (``APIJSON/encoder``).
    public func json() -> Data {
        (try? APIJSON.encoder.encode(self)) ?? Data()
    }
}

import Audit
import Foundation
import UUIDText

/// An audit event as the API and the exports show it (snake_case, times in RFC 3339 UTC with
/// microseconds). It holds the recipient only as HMAC and masked form.
public struct AuditEventView: Sendable, Codable, Equatable, APIJSONEncodable {
    public var seq: Int64
    public var id: String
    public var at: String
    public var actor: String
    public var sourceIP: String?
    public var requestID: String?
    public var action: String
    public var deliveryID: String?
    public var identityID: String?
    public var recipientHash: String?
    public var recipientMasked: String?
    public var outcome: String?
    public var details: [String: String]
    public var prevHash: String
    public var hash: String
    /// The sealing key's id; `nil` on events sealed before events named their key.
    public var keyID: String?

    enum CodingKeys: String, CodingKey {
        case seq, id, at, actor, action, outcome, details, hash
        case keyID = "key_id"
        case sourceIP = "source_ip"
        case requestID = "request_id"
        case deliveryID = "delivery_id"
        case identityID = "identity_id"
        case recipientHash = "recipient_hash"
        case recipientMasked = "recipient_masked"
        case prevHash = "prev_hash"
    }

    /// The CSV columns, in order (`key_id` last, so readers of the older columns keep working).
    static let fields = [
        "seq", "id", "at", "actor", "source_ip", "request_id", "action", "delivery_id", "identity_id",
        "recipient_hash", "recipient_masked", "outcome", "details", "prev_hash", "hash", "key_id",
    ]

    public init(_ event: AuditEvent) {
        seq = event.seq
        id = event.id.lowercasedString
        at = AuditTime.format(event.at)
        actor = event.actor
        sourceIP = event.sourceIP
        requestID = event.requestID
        action = event.action.rawValue
        deliveryID = event.deliveryID?.lowercasedString
        identityID = event.identityID?.lowercasedString
        recipientHash = event.recipientHash
        recipientMasked = event.recipientMasked
        outcome = event.outcome
        details = event.details
        prevHash = event.prevHash
        hash = event.hash
        keyID = event.keyID
    }

    /// The event this view shows, as read back from an NDJSON export; throws naming the first
    /// field that is not what the export writes.
    public func event() throws(AuditExportLineError) -> AuditEvent {
        func uuid(_ text: String?, _ field: String) throws(AuditExportLineError) -> UUID? {
            guard let text else { return nil }
            guard let value = UUID(text: text) else { throw AuditExportLineError(field: field) }
            return value
        }
        guard let id = try uuid(id, "id") else { throw AuditExportLineError(field: "id") }
        guard let date = AuditTime.parse(at) else { throw AuditExportLineError(field: "at") }
        let draft = AuditDraft(
            at: date,
            actor: actor,
            sourceIP: sourceIP,
            requestID: requestID,
            action: AuditAction(action),
            deliveryID: try uuid(deliveryID, "delivery_id"),
            identityID: try uuid(identityID, "identity_id"),
            recipientHash: recipientHash,
            recipientMasked: recipientMasked,
            outcome: outcome,
            details: details
        )
        return AuditEvent(seq: seq, id: id, draft: draft, prevHash: prevHash, hash: hash, keyID: keyID)
    }

    var csvValues: [String] {
        let detailsJSON = (try? APIJSON.encoder.encode(details)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return [
            String(seq), id, at, actor, sourceIP ?? "", requestID ?? "", action, deliveryID ?? "", identityID ?? "",
            recipientHash ?? "", recipientMasked ?? "", outcome ?? "", detailsJSON, prevHash, hash, keyID ?? "",
        ]
    }
}
/// A line of an export that is not an audit event as the export writes it.
public struct AuditExportLineError: Error, Sendable, CustomStringConvertible {
    /// The field at fault.
    public var field: String

    public var description: String { "field \(field) is malformed" }
}

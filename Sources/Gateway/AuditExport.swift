import Audit
import Foundation

/// The audit log as compliance reads it: one event per line as JSON (NDJSON) or CSV, the same
/// from the API (`Accept: application/x-ndjson` / `text/csv`) and from `recovery-gateway audit export`.
public enum AuditExportFormat: String, Sendable, CaseIterable {
    case ndjson
    case csv

    /// The media type of the export.
    public var contentType: String { self == .ndjson ? "application/x-ndjson" : "text/csv; charset=utf-8" }

    /// What comes before the first event (the CSV header row).
    public var header: String {
        self == .csv ? AuditEventView.fields.joined(separator: ",") + "\r\n" : ""
    }

    /// One event, line end included.
    public func line(_ event: AuditEvent) -> String {
        let view = AuditEventView(event)
        switch self {
        case .ndjson:
            return String(decoding: view.json(), as: UTF8.self) + "\n"
        case .csv:
            return view.csvValues.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
    private static func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

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

    enum CodingKeys: String, CodingKey {
        case seq, id, at, actor, action, outcome, details, hash
        case sourceIP = "source_ip"
        case requestID = "request_id"
        case deliveryID = "delivery_id"
        case identityID = "identity_id"
        case recipientHash = "recipient_hash"
        case recipientMasked = "recipient_masked"
        case prevHash = "prev_hash"
    }

    /// The CSV columns, in order.
    static let fields = [
        "seq", "id", "at", "actor", "source_ip", "request_id", "action", "delivery_id", "identity_id",
        "recipient_hash", "recipient_masked", "outcome", "details", "prev_hash", "hash",
    ]

    public init(_ event: AuditEvent) {
        seq = event.seq
        id = event.id.uuidString.lowercased()
        at = AuditTime.format(event.at)
        actor = event.actor
        sourceIP = event.sourceIP
        requestID = event.requestID
        action = event.action.rawValue
        deliveryID = event.deliveryID?.uuidString.lowercased()
        identityID = event.identityID?.uuidString.lowercased()
        recipientHash = event.recipientHash
        recipientMasked = event.recipientMasked
        outcome = event.outcome
        details = event.details
        prevHash = event.prevHash
        hash = event.hash
    }

    /// The event this view shows, as read back from an NDJSON export; throws naming the first
    /// field that is not what the export writes.
    public func event() throws(AuditExportLineError) -> AuditEvent {
        func uuid(_ text: String?, _ field: String) throws(AuditExportLineError) -> UUID? {
            guard let text else { return nil }
            guard let value = UUID(uuidString: text) else { throw AuditExportLineError(field: field) }
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
        return AuditEvent(seq: seq, id: id, draft: draft, prevHash: prevHash, hash: hash)
    }

    var csvValues: [String] {
        let detailsJSON = (try? APIJSON.encoder.encode(details)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return [
            String(seq), id, at, actor, sourceIP ?? "", requestID ?? "", action, deliveryID ?? "", identityID ?? "",
            recipientHash ?? "", recipientMasked ?? "", outcome ?? "", detailsJSON, prevHash, hash,
        ]
    }
}

/// A line of an export that is not an audit event as the export writes it.
public struct AuditExportLineError: Error, Sendable, CustomStringConvertible {
    /// The field at fault.
    public var field: String

    public var description: String { "field \(field) is malformed" }
}

/// The result of checking the audit chain, as the API and the CLI report it:
/// `{"ok": true, "events": N, "head": "<hash>"}` or `{"ok": false, "first_broken_seq": N, "reason": "…"}`.
public struct AuditVerificationView: Sendable, Codable, Equatable, APIJSONEncodable {
    public var ok: Bool
    public var events: Int?
    public var head: String?
    public var firstBrokenSeq: Int64?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case ok, events, head, reason
        case firstBrokenSeq = "first_broken_seq"
    }

    public init(_ result: AuditVerification) {
        switch result {
        case .ok(let events, let head):
            ok = true
            self.events = events
            self.head = head
        case .broken(let seq, let reason):
            ok = false
            firstBrokenSeq = seq
            self.reason = reason.description
        }
    }

}

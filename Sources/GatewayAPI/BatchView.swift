import Audit
import Foundation
import RFC3339
import Store
import UUIDText

/// A batch as the API shows it: its status and pace, its items by outcome, the deliveries of its
/// accepted items by status, and when the pending items should be through (`eta`).
public struct BatchView: Sendable, Encodable, APIJSONEncodable {
    public var id: String
    public var status: String
    public var rate: Int
    public var total: Int
    public var ingestComplete: Bool
    /// Every outcome, 0 included.
    public var counts: [String: Int]
    /// Every delivery status, 0 included.
    public var deliveries: [String: Int]
    public var createdAt: String
    public var finishedAt: String?
    /// Seconds until the pending items are accepted at the batch's rate; nil unless running.
    public var etaSeconds: Int?
    /// When that is.
    public var eta: String?
    /// Why a paused batch is held (who paused it and why, or the runner's reason); nil unless paused.
    public var pausedReason: String?

    enum CodingKeys: String, CodingKey {
        case id, status, rate, total, counts, deliveries, eta
        case pausedReason = "paused_reason"
        case ingestComplete = "ingest_complete"
        case createdAt = "created_at"
        case finishedAt = "finished_at"
        case etaSeconds = "eta_seconds"
    }

    public init(_ batch: BatchRecord, counts: BatchCounts, now: Date = Date()) {
        id = batch.id.lowercasedString
        status = batch.status.rawValue
        rate = batch.rate
        total = batch.total
        ingestComplete = batch.ingestComplete
        self.counts = Dictionary(
            uniqueKeysWithValues: BatchItemOutcome.allCases.map { ($0.rawValue, counts.outcomes[$0] ?? 0) }
        )
        deliveries = Dictionary(
            uniqueKeysWithValues: DeliveryStatus.allCases.map { ($0.rawValue, counts.deliveries[$0] ?? 0) }
        )
        createdAt = Timestamp.format(batch.createdAt)
        finishedAt = batch.finishedAt.map(Timestamp.format)
        pausedReason = batch.status == .paused ? batch.pausedReason : nil
        if batch.status == .running || batch.status == .ingesting {
            let seconds = ((counts.outcomes[.pending] ?? 0) + batch.rate - 1) / max(batch.rate, 1)
            etaSeconds = seconds
            eta = Timestamp.format(now.addingTimeInterval(TimeInterval(seconds)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(status, forKey: .status)
        try container.encode(rate, forKey: .rate)
        try container.encode(total, forKey: .total)
        try container.encode(ingestComplete, forKey: .ingestComplete)
        try container.encode(counts, forKey: .counts)
        try container.encode(deliveries, forKey: .deliveries)
        try container.encode(createdAt, forKey: .createdAt)
        // `null` rather than a missing key, as the lists' `next_cursor`.
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(etaSeconds, forKey: .etaSeconds)
        try container.encode(eta, forKey: .eta)
        try container.encode(pausedReason, forKey: .pausedReason)
    }
}

/// One item of a batch as the API shows it: no item text (a login email would be in clear), the
/// recipient masked.
public struct BatchItemView: Sendable, Encodable, APIJSONEncodable {
    public var position: Int
    public var outcome: String
    public var reason: String?
    public var identityID: String?
    public var recipient: String?
    public var deliveryID: String?

    enum CodingKeys: String, CodingKey {
        case position, outcome, reason, recipient
        case identityID = "identity_id"
        case deliveryID = "delivery_id"
    }

    public init(_ item: BatchItemRecord) {
        position = item.position
        outcome = item.outcome.rawValue
        reason = item.reason
        identityID = item.identityID?.lowercasedString
        recipient = item.recipientMasked
        deliveryID = item.deliveryID?.lowercasedString
    }

    /// The CSV header of ``csvLine``.
    public static let csvHeader = "position,outcome,identity_id,recipient,delivery_id,reason\r\n"

    /// The item as one CSV record (RFC 4180: a field with a comma, quote or line break quoted).
    public var csvLine: String {
        [String(position), outcome, identityID ?? "", recipient ?? "", deliveryID ?? "", reason ?? ""]
            .map(AuditExportFormat.csvField).joined(separator: ",") + "\r\n"
    }
}

import Audit
import Foundation
import UUIDText

/// Where a batch is: its items are being stored (`ingesting`), sent at its rate (`running`),
/// held (`paused`), stopped for good (`cancelled`), or every item has its outcome (`done`).
public enum BatchStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case ingesting
    case running
    case paused
    case cancelled
    case done
}

/// What became of one item of a batch: `pending` until the runner gets to it, then `accepted`
/// (a delivery), or why not, or `cancelled` with its batch.
public enum BatchItemOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case pending
    case accepted
    case notFound = "not_found"
    case noRecoveryAddress = "no_recovery_address"
    case recipientNotAllowed = "recipient_not_allowed"
    case cooldown
    case invalid
    case cancelled
}

/// A stored batch: who made it, under which idempotency key, its common fields (the JSON text of
/// a single send's fields, no secret in them) and its pace. No item is in it.
public struct BatchRecord: Sendable, Hashable {
    public var id: UUID
    /// The caller's API key name: the idempotency key's scope, the actor of every item's delivery.
    public var apiKeyID: String
    public var idempotencyKey: String
    /// Tells a replay (same common fields) from a reuse of the key.
    public var requestHash: String
    /// The creator's right to name any recipient (`recovery:send:any-recipient`), fixed at creation.
    public var anyRecipient: Bool
    public var sourceIP: String?
    public var requestID: String?
    /// The common fields as a JSON object.
    public var common: String
    /// Items accepted per second.
    public var rate: Int
    public var status: BatchStatus
    /// How many items the upload had (so far, while ingesting).
    public var total: Int
    public var ingestComplete: Bool
    public var createdAt: Date
    /// When the last item got its outcome, or the batch was cancelled.
    public var finishedAt: Date?
    /// Why a `paused` batch is held: the reason its pauser gave, or why the runner paused it (its
    /// creator's key gone or without `recovery:send`); nil unless paused.
    public var pausedReason: String?

    public init(
        id: UUID,
        apiKeyID: String,
        idempotencyKey: String,
        requestHash: String,
        anyRecipient: Bool,
        sourceIP: String?,
        requestID: String?,
        common: String,
        rate: Int,
        status: BatchStatus = .ingesting,
        total: Int = 0,
        ingestComplete: Bool = false,
        createdAt: Date,
        finishedAt: Date? = nil,
        pausedReason: String? = nil
    ) {
        self.id = id
        self.apiKeyID = apiKeyID
        self.idempotencyKey = idempotencyKey
        self.requestHash = requestHash
        self.anyRecipient = anyRecipient
        self.sourceIP = sourceIP
        self.requestID = requestID
        self.common = common
        self.rate = rate
        self.status = status
        self.total = total
        self.ingestComplete = ingestComplete
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.pausedReason = pausedReason
    }

    /// The idempotency key of the item at `position`, under the creator's API key: a crash between
    /// accepting the item and recording its outcome replays instead of sending twice, and the store
    /// finds the item's delivery by it (``BatchStore/changeBatchStatus(id:from:to:at:reason:audit:)``)
    /// before its outcome is recorded.
    public func itemKey(position: Int) -> String { Self.itemKeyPrefix(id) + String(position) }

    /// `batch:<id>:`, the prefix of every item key of the batch `id`.
    public static func itemKeyPrefix(_ id: UUID) -> String { "batch:\(id.lowercasedString):" }
}

/// The answer of ``BatchStore/createBatch(_:)``.
public enum BatchCreation: Sendable, Hashable {
    /// A new batch, `ingesting`.
    case created(BatchRecord)
    /// The key already made this batch with the same common fields: a replay when its ingest is
    /// complete, else a resumed upload (positions already stored are skipped).
    case existing(BatchRecord)
    /// The key made a batch with other common fields.
    case keyReused
}

/// One item as uploaded: its position (1-based; an NDJSON body's line number) and the item's JSON
/// text (an identity id or login email, which the store may keep as it keeps a recipient), or,
/// for a line that is no item, `invalid` with the reason.
public struct NewBatchItem: Sendable, Hashable {
    public var position: Int
    public var item: String?
    public var invalidReason: String?

    public init(position: Int, item: String?, invalidReason: String? = nil) {
        self.position = position
        self.item = item
        self.invalidReason = invalidReason
    }
}

/// One stored item and what became of it.
public struct BatchItemRecord: Sendable, Hashable {
    public var position: Int
    /// The item's JSON text; nil for a line that was not one.
    public var item: String?
    public var outcome: BatchItemOutcome
    public var reason: String?
    public var identityID: UUID?
    public var recipientMasked: String?
    public var deliveryID: UUID?

    public init(
        position: Int,
        item: String?,
        outcome: BatchItemOutcome,
        reason: String? = nil,
        identityID: UUID? = nil,
        recipientMasked: String? = nil,
        deliveryID: UUID? = nil
    ) {
        self.position = position
        self.item = item
        self.outcome = outcome
        self.reason = reason
        self.identityID = identityID
        self.recipientMasked = recipientMasked
        self.deliveryID = deliveryID
    }
}

/// A batch's figures: its items by outcome, and the deliveries of its accepted items by status.
public struct BatchCounts: Sendable, Hashable {
    public var outcomes: [BatchItemOutcome: Int]
    public var deliveries: [DeliveryStatus: Int]

    public init(outcomes: [BatchItemOutcome: Int], deliveries: [DeliveryStatus: Int]) {
        self.outcomes = outcomes
        self.deliveries = deliveries
    }
}

extension BatchCounts {
    /// The counts from stored rows of (outcome, count) and (delivery status, count); a name that
    /// is no outcome or status is a corrupt row.
    package init(outcomeRows: [(String, Int)], deliveryRows: [(String, Int)]) throws(StoreError) {
        var outcomes: [BatchItemOutcome: Int] = [:]
        for (name, count) in outcomeRows {
            guard let outcome = BatchItemOutcome(rawValue: name) else {
                throw .corruptRow(table: "batch_items", column: "outcome")
            }
            outcomes[outcome] = count
        }
        var deliveries: [DeliveryStatus: Int] = [:]
        for (name, count) in deliveryRows {
            guard let status = DeliveryStatus(rawValue: name) else {
                throw .corruptRow(table: "deliveries", column: "status")
            }
            deliveries[status] = count
        }
        self.init(outcomes: outcomes, deliveries: deliveries)
    }
}

/// A page of a batch's items, in position order, optionally of one outcome.
public struct BatchItemQuery: Sendable, Hashable {
    public var batchID: UUID
    public var outcome: BatchItemOutcome?
    /// The cursor of the previous page (the last position it held).
    public var cursor: String?
    public var limit: Int

    public init(batchID: UUID, outcome: BatchItemOutcome? = nil, cursor: String? = nil, limit: Int = PageLimit.default)
    {
        self.batchID = batchID
        self.outcome = outcome
        self.cursor = cursor
        self.limit = limit
    }

    /// The position after which the page starts; throws `invalidQuery` for a bad cursor or limit.
    public func afterPosition() throws(StoreError) -> Int {
        guard PageLimit.range.contains(limit) else {
            throw .invalidQuery(parameter: "limit", reason: "must be between 1 and 200, got \(limit)")
        }
        guard let cursor else { return 0 }
        guard let position = Int(cursor), position >= 0 else {
            throw .invalidQuery(parameter: "cursor", reason: "not a cursor of this list")
        }
        return position
    }
}

/// What a change of a batch's status did: the batch after it, and for a cancel how many items it
/// stopped and how many it could not.
public struct BatchChange: Sendable, Hashable {
    /// The batch after the change.
    public var batch: BatchRecord
    /// For a cancel: the items that will not be sent, whether still pending or accepted with their
    /// delivery not yet taken by a worker. Exactly these: no item of a batch is accepted once its
    /// cancel has committed.
    public var cancelledItems: Int
    /// For a cancel: the items whose delivery a worker held at that moment (`sending`): their email
    /// may already be on the wire, and goes on.
    public var onTheWire: Int

    public init(batch: BatchRecord, cancelledItems: Int, onTheWire: Int = 0) {
        self.batch = batch
        self.cancelledItems = cancelledItems
        self.onTheWire = onTheWire
    }
}

/// What batches need of the store: the batch and its items, idempotent by batch and position, the
/// runner's lease of a batch, and the outcomes it records. Every ``GatewayStore`` is one.
public protocol BatchStore: Sendable {
    /// Creates `batch` (`ingesting`) unless its API key and idempotency key already made one:
    /// then that one (same `requestHash`) or `keyReused`.
    func createBatch(_ batch: BatchRecord) async throws(StoreError) -> BatchCreation

    /// Stores `items` of a batch still ingesting in one transaction; a position already stored
    /// is left as it is (a resumed upload sends it again). Items are `pending`, or `invalid`.
    /// False, and nothing stored, when the batch is no longer `ingesting` (cancelled meanwhile):
    /// the upload stops.
    @discardableResult
    func addBatchItems(batchID: UUID, _ items: [NewBatchItem]) async throws(StoreError) -> Bool

    /// Ends the ingest: records `total`, makes an `ingesting` batch `running` and appends `audit`
    /// (`batch.created`, its outcome the status the batch is left in: `running`, or `cancelled`
    /// for one cancelled during its upload) in one transaction. A batch whose ingest was already
    /// complete is returned as it is, and nothing is appended.
    func completeBatchIngest(id: UUID, total: Int, audit: AuditDraft) async throws(StoreError) -> BatchRecord

    func batch(id: UUID) async throws(StoreError) -> BatchRecord?

    func batchCounts(id: UUID) async throws(StoreError) -> BatchCounts

    func batchItems(_ query: BatchItemQuery) async throws(StoreError) -> Page<BatchItemRecord>

    /// Moves a batch whose status is one of `from` to `to` and appends `audit` (if any) in one
    /// transaction; `reason` is kept as the batch's ``BatchRecord/pausedReason`` while it is
    /// `paused`. `to == .cancelled` also cancels its pending items and the deliveries of its items
    /// that no worker has taken yet (`queued`, `retrying`: `failed` as `cancelled`, each with its
    /// `email.failed` event, their items `cancelled`), an item accepted but not yet recorded
    /// included (found by its ``BatchRecord/itemKey(position:)``). No item of the batch is accepted
    /// after the change commits: every store refuses, in the accept's own transaction, a delivery
    /// under an item key of a batch that is not `running`. Nil when the batch is not in one of
    /// `from` (nothing changed) or does not exist.
    func changeBatchStatus(
        id: UUID,
        from: Set<BatchStatus>,
        to: BatchStatus,
        at: Date,
        reason: String?,
        audit: AuditDraft?
    ) async throws(StoreError) -> BatchChange?

    /// The `running` batches that no other runner holds, each now held by `owner` until
    /// `now + leaseFor` (a runner renews its lease by asking again; a dead one's batches pass on).
    func leaseBatches(owner: String, now: Date, leaseFor: TimeInterval) async throws(StoreError) -> [BatchRecord]

    /// Up to `limit` `pending` items of a batch, lowest position first.
    func pendingBatchItems(batchID: UUID, limit: Int) async throws(StoreError) -> [BatchItemRecord]

    /// Records the outcomes of items still `pending` (an item that has one keeps it; one a cancel
    /// recorded `accepted` with the same delivery gets its identity and recipient), and marks a
    /// `running` batch whose ingest is complete `done` once no item is pending.
    func recordBatchItems(batchID: UUID, _ results: [BatchItemRecord], at: Date) async throws(StoreError)

    /// How many deliveries are `queued` and due (not yet leased by a worker): the backlog a
    /// single send would wait behind.
    func queuedDeliveries(now: Date) async throws(StoreError) -> Int
}

extension AuditDraft {
    /// The `email.failed` event of `delivery`, stopped before it was sent because its batch was
    /// cancelled by `cancel` (the `batch.cancelled` event: its actor, request and time).
    public static func cancelled(
        _ delivery: Delivery,
        batchID: UUID,
        by cancel: AuditDraft,
        chain: AuditChain
    )
        -> AuditDraft
    {
        AuditDraft(
            at: cancel.at,
            actor: cancel.actor,
            sourceIP: cancel.sourceIP,
            requestID: cancel.requestID,
            action: .emailFailed,
            deliveryID: delivery.id,
            identityID: delivery.identityID,
            recipientHash: chain.recipientHash(delivery.recipient.description),
            recipientMasked: AuditChain.mask(delivery.recipient.description),
            outcome: DeliveryFailure.cancelled.rawValue,
            details: ["batch_id": batchID.lowercasedString]
        )
    }
}

extension StoreError {
    /// The message with which each store's schema refuses a delivery under an item key of a batch
    /// that is not `running` (a trigger on `deliveries`); read back as ``batchNotRunning``.
    public static let batchNotRunningMessage = "recovery_batch_not_running"
}

import Audit
import Foundation

/// Filters and page of the delivery list (newest first).
public struct DeliveryQuery: Sendable, Hashable {
    public var identityID: UUID?
    public var status: DeliveryStatus?
    public var source: DeliverySource?
    /// A Kratos courier template type (`recovery_code_valid`, …).
    public var templateType: String?
    /// Created at or after.
    public var createdSince: Date?
    /// Created before.
    public var createdUntil: Date?
    /// The `nextCursor` of the previous page.
    public var cursor: String?
    /// 1...200.
    public var limit: Int

    public init(
        identityID: UUID? = nil,
        status: DeliveryStatus? = nil,
        source: DeliverySource? = nil,
        templateType: String? = nil,
        createdSince: Date? = nil,
        createdUntil: Date? = nil,
        cursor: String? = nil,
        limit: Int = PageLimit.default
    ) {
        self.identityID = identityID
        self.status = status
        self.source = source
        self.templateType = templateType
        self.createdSince = createdSince
        self.createdUntil = createdUntil
        self.cursor = cursor
        self.limit = limit
    }
}

/// Filters and page of the audit event list (ascending seq).
public struct AuditQuery: Sendable, Hashable {
    /// At or after.
    public var since: Date?
    /// Before.
    public var until: Date?
    public var identityID: UUID?
    public var actor: String?
    public var action: AuditAction?
    public var deliveryID: UUID?
    public var cursor: String?
    /// 1...200.
    public var limit: Int

    public init(
        since: Date? = nil,
        until: Date? = nil,
        identityID: UUID? = nil,
        actor: String? = nil,
        action: AuditAction? = nil,
        deliveryID: UUID? = nil,
        cursor: String? = nil,
        limit: Int = PageLimit.default
    ) {
        self.since = since
        self.until = until
        self.identityID = identityID
        self.actor = actor
        self.action = action
        self.deliveryID = deliveryID
        self.cursor = cursor
        self.limit = limit
    }
}

/// One page of a list; `nextCursor` is nil on the last page.
public struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// The page of `fetched`, rows read in list order with a limit of `limit + 1`: the first
    /// `limit`, and the cursor after the last of them when there was one more.
    package init(fetched: [Item], limit: Int, cursor: (Item) -> String) {
        guard fetched.count > limit else {
            self.init(items: fetched, nextCursor: nil)
            return
        }
        let items = Array(fetched.prefix(limit))
        self.init(items: items, nextCursor: items.last.map(cursor))
    }
}

/// Queue figures for health and metrics.
public struct StoreStats: Sendable, Hashable {
    /// Deliveries waiting to be sent (`queued` or `retrying`).
    public var waiting: Int
    /// Deliveries leased by a worker (`sending`).
    public var sending: Int
    /// `createdAt` of the oldest waiting delivery.
    public var oldestWaitingCreatedAt: Date?

    public init(waiting: Int, sending: Int, oldestWaitingCreatedAt: Date?) {
        self.waiting = waiting
        self.sending = sending
        self.oldestWaitingCreatedAt = oldestWaitingCreatedAt
    }
}

/// The page size rule of every list, in the API, the command line and the stores alike.
public enum PageLimit {
    /// The sizes a page may have.
    public static let range = 1...200
    /// The size of a page when none is asked for.
    public static let `default` = 50

    /// Refuses a `limit` outside ``range``.
    package static func check(_ limit: Int) throws(StoreError) {
        guard range.contains(limit) else {
            throw .invalidQuery(
                parameter: "limit",
                reason: "must be between \(range.lowerBound) and \(range.upperBound), got \(limit)"
            )
        }
    }
}

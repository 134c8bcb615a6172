import Audit
import Foundation
import Store

/// What the intake answers for a delivery: queued now, or queued before by a request with the
/// same idempotency key. In the domain's terms only: the server renders it (``IntakeAnswer`` →
/// 202 or 200 with the delivery's view); no status code or body is made or stored here.
public enum IntakeAnswer: Sendable, Hashable {
    /// Queued now: the delivery as stored.
    case queued(Delivery)
    /// The same request again: the id of the delivery the first one queued, and what its first
    /// answer showed, to be shown again as it was.
    case replayed(UUID, first: FirstAnswer)

    /// The delivery queued now or before.
    public var deliveryID: UUID {
        switch self {
        case .queued(let delivery): delivery.id
        case .replayed(let id, _): id
        }
    }

    /// An answer to a request made before.
    public var replayed: Bool {
        if case .replayed = self { true } else { false }
    }

    /// The recipient, masked (for the request's log line); nil for a replay.
    public var recipientMasked: String? {
        if case .queued(let delivery) = self { AuditChain.mask(delivery.recipient.description) } else { nil }
    }

    /// The identity the delivery goes to; nil for a replay (and a courier message without one).
    public var identityID: UUID? {
        if case .queued(let delivery) = self { delivery.identityID } else { nil }
    }
}

/// The first answer to a request that is replayed, to be answered again byte for byte.
public enum FirstAnswer: Sendable, Hashable {
    /// The delivery as it was queued (``Store/Delivery/asQueued``): the first answer showed it so.
    case delivery(Delivery)
    /// The first answer's bytes, as 0.1.0 stored them with the key (``IdempotentAnswer/storedAnswer``).
    case stored(Data)
}

/// Why the intake queued nothing. Nothing is stored for any of them.
public enum IntakeRefusal: Error, Sendable, Equatable {
    /// The key was claimed for another request.
    case keyReused
    /// The same identity and recipient were sent to moments ago under another key.
    case cooldown(retryAfter: Date)
    /// The store failed; the error (which names no secret) is for the operator's log.
    case storeUnavailable(StoreError)
}

/// The one way a delivery enters the outbox, whatever made it (an API or console send, a batch's
/// item, a message of Kratos's courier): in one store transaction it claims the idempotency key,
/// applies the cooldown, queues the delivery and seals its `email.requested` event, then wakes
/// the worker. A request whose key was claimed before for the same request is answered with the
/// delivery it queued, as it was queued, so that the answer is the first one again.
///
/// What a delivery is made of, and the checks before it (Kratos, templates, the courier's
/// document), are the callers': ``AcceptService`` and ``CourierReceiver``.
public struct DeliveryIntake: Sendable {
    let store: any AcceptStore
    let signal: DeliverySignal
    let metrics: GatewayMetrics

    /// - Parameter signal: nudged for every delivery queued, so the worker starts it at once.
    public init(store: any AcceptStore, signal: DeliverySignal, metrics: GatewayMetrics = .disabled) {
        self.store = store
        self.signal = signal
        self.metrics = metrics
    }

    /// The answer for `key` of `apiKeyID` claimed before for the request hashed `requestHash`,
    /// looked up before any other work (so a retried request is answered even while Kratos is
    /// down); nil when the key is free. Throws `keyReused` when it was claimed for another request.
    func earlier(
        apiKeyID: String,
        key: String,
        requestHash: String,
        now: Date
    ) async throws(IntakeRefusal) -> IntakeAnswer? {
        let found = try await storeCall { () async throws(StoreError) in
            try await store.idempotentAnswer(apiKeyID: apiKeyID, key: key, now: now)
        }
        guard let found else { return nil }
        return try answer(found.result(forRequestHash: requestHash))
    }

    /// Queues `delivery` (created now, due at once) under `claim`, unless the key was claimed
    /// before or, with a `cooldown`, its identity and recipient were sent to within it under
    /// another key; `audit` is its `email.requested` event (the store sets its delivery id).
    func enqueue(
        _ delivery: Delivery,
        claim: IdempotencyEntry,
        cooldown: Duration,
        audit: AuditDraft
    ) async throws(IntakeRefusal) -> IntakeAnswer {
        var delivery = delivery
        // A replay shows the delivery as queued, due at its creation (`asQueued`): so is the first.
        delivery.nextAttemptAt = delivery.createdAt
        let new = NewDelivery(delivery: delivery, idempotency: claim, cooldown: cooldown / .seconds(1), audit: audit)
        return try answer(try await storeCall { () async throws(StoreError) in try await store.accept(new) })
    }

    /// The answer to the store's `result`: a refusal thrown, a queued delivery announced to the
    /// worker, a replay with what its first answer showed.
    private func answer(_ result: AcceptResult) throws(IntakeRefusal) -> IntakeAnswer {
        switch result {
        case .accepted(let stored, _):
            signal.nudge()
            return .queued(stored)
        case .replay(let delivery, let storedAnswer):
            metrics.count(.idempotentReplays)
            if let storedAnswer { return .replayed(delivery.id, first: .stored(storedAnswer)) }
            return .replayed(delivery.id, first: .delivery(delivery.asQueued))
        case .keyReused:
            throw .keyReused
        case .cooldown(let retryAfter):
            throw .cooldown(retryAfter: retryAfter)
        }
    }

    private func storeCall<T>(_ body: () async throws(StoreError) -> T) async throws(IntakeRefusal) -> T {
        do {
            return try await body()
        } catch {
            throw .storeUnavailable(error)
        }
    }
}

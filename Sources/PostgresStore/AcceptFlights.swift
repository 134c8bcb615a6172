import Store
import Synchronization

/// Same-key accepts in one process, one transaction at a time: the others wait for its outcome
/// without holding a pooled connection (single flight).
///
/// Without it a burst of retries with one idempotency key takes one pooled connection per
/// request, and every one but the first sits in the database blocked on the first
/// transaction's lock of the key's row until it commits. With more requests than connections,
/// the rest wait for the pool instead — behind transactions that wait for the same commit — and
/// fail `unavailable` when that takes longer than the pool wait, as it does on a loaded machine.
///
/// Here the first accept of a key runs its transaction; an accept of the same key that arrives
/// meanwhile waits for that outcome and is answered from it as the database would answer it:
/// the answer stored for the key (a replay for the same request, `keyReused` for another one),
/// or the same error. An outcome that stored nothing for the key (refused for cooldown or key
/// reuse) tells a waiter nothing, so it runs an accept of its own, again one at a time.
/// Replicas are still decided between by the database (the key's primary key); this bounds each
/// replica to one connection per key.
///
/// The transaction runs in a task of its own, so that one caller's cancellation does not cut
/// off the outcome others wait for; it ends in bounded time like every call (see `PooledCall`).
final class AcceptFlights: Sendable {
    private struct Key: Hashable {
        let apiKeyID: String
        let key: String
    }

    /// The accept in flight for a key: the idempotency record it stores if it is accepted.
    private struct Flight {
        let number: UInt64
        let entry: IdempotencyEntry
        let task: Task<AcceptResult, any Error>
    }

    private struct State {
        var flights: [Key: Flight] = [:]
        var launched: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Answers `new` by running `transaction` when no accept of its key is in flight here, or
    /// from the outcome of the one that is.
    func accept(
        _ new: NewDelivery,
        transaction: @escaping @Sendable () async throws(StoreError) -> AcceptResult
    ) async throws(StoreError) -> AcceptResult {
        let key = Key(apiKeyID: new.idempotency.apiKeyID, key: new.idempotency.key)
        while true {
            let (flight, isOwn) = state.withLock { state in
                if let flight = state.flights[key] { return (flight, false) }
                state.launched += 1
                let number = state.launched
                let task = Task<AcceptResult, any Error> {
                    defer { self.land(key, number: number) }
                    return try await transaction()
                }
                let flight = Flight(number: number, entry: new.idempotency, task: task)
                state.flights[key] = flight
                return (flight, true)
            }
            let outcome = await flight.task.result
            if isOwn { return try outcome.get(orThrow: PostgresStore.storeError) }
            switch try outcome.get(orThrow: PostgresStore.storeError) {
            case .accepted(let record, _):
                return IdempotentAnswer(requestHash: flight.entry.requestHash, delivery: record)
                    .result(forRequestHash: new.idempotency.requestHash)
            case .replay(let delivery, let storedAnswer):
                return IdempotentAnswer(
                    requestHash: flight.entry.requestHash,
                    delivery: delivery,
                    storedAnswer: storedAnswer
                ).result(forRequestHash: new.idempotency.requestHash)
            case .keyReused, .cooldown:
                continue
            }
        }
    }

    /// Forgets the flight numbered `number` once it has its outcome.
    private func land(_ key: Key, number: UInt64) {
        state.withLock { state in
            if state.flights[key]?.number == number { state.flights[key] = nil }
        }
    }
}

extension Result {
    /// The value, or the failure as `StoreError`.
    fileprivate func get(orThrow convert: (Failure) -> StoreError) throws(StoreError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw convert(error)
        }
    }
}

import Foundation
import Synchronization

/// The delivery worker's word that it recorded an attempt's outcome, for whoever waits on one
/// delivery: a request with `Prefer: wait` reads the delivery again as soon as an outcome is
/// recorded, instead of reading the store over and over.
///
/// Only this process's worker tells it: with several replicas another's worker may record the
/// outcome, so a waiter reads the store again when a wait ends without word (``next(of:within:)``).
/// Any number of waiters, on any deliveries; a wait ignores task cancellation and ends at its
/// timeout at the latest.
public final class DeliveryOutcomes: Sendable {
    private struct State {
        /// The waiters of each delivery, by their number.
        var waiters: [UUID: [UInt64: CheckedContinuation<Bool, Never>]] = [:]
        /// Waits not yet installed as waiters.
        var pending: Set<UInt64> = []
        /// Waits whose timeout fired before their waiter was installed.
        var expired: Set<UInt64> = []
        var lastNumber: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Tells the waiters of the delivery `id` that an attempt's outcome was recorded.
    public func recorded(_ id: UUID) {
        let waiters = state.withLock { $0.waiters.removeValue(forKey: id) } ?? [:]
        for waiter in waiters.values { waiter.resume(returning: true) }
    }

    /// Waits for the next outcome recorded here for the delivery `id`: true when one was, false
    /// when none was within `timeout`.
    @discardableResult
    public func next(of id: UUID, within timeout: Duration) async -> Bool {
        let number = state.withLock { state in
            state.lastNumber += 1
            state.pending.insert(state.lastNumber)
            return state.lastNumber
        }
        let timer = Task { [self] in
            // Cancelled: the wait has ended already.
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            expire(id, number)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let late = state.withLock { state in
                state.pending.remove(number)
                guard state.expired.remove(number) == nil else { return true }
                state.waiters[id, default: [:]][number] = continuation
                return false
            }
            if late { continuation.resume(returning: false) }
        }
    }

    private func expire(_ id: UUID, _ number: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiters[id]?.removeValue(forKey: number) else {
                // Not installed yet: it ends at once when it is. (Otherwise it has ended.)
                if state.pending.contains(number) { state.expired.insert(number) }
                return nil
            }
            if state.waiters[id]?.isEmpty == true { state.waiters[id] = nil }
            return waiter
        }
        waiter?.resume(returning: false)
    }
}

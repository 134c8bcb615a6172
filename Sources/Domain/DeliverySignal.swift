import Synchronization

/// A nudge from the accept side to the delivery worker: "a delivery is queued", so the worker
/// starts it at once instead of at its next poll. Nudges while the worker is busy fold into one.
///
/// One waiter at a time (the worker's loop). A wait ends on a nudge or when its timeout passes;
/// it ignores task cancellation, so a cancelled wait ends at its timeout at the latest.
public final class DeliverySignal: Sendable {
    private struct State {
        /// A nudge came while nobody waited: the next wait returns at once.
        var pending = false
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        /// The last wait whose timeout fired (possibly before its waiter was installed).
        var expired: UInt64 = 0
        var lastID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the worker (or makes its next wait return at once).
    public func nudge() {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return CheckedContinuation<Void, Never>?.none
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Waits for a nudge or until `timeout` passes, whichever is first.
    func wait(timeout: Duration) async {
        // A nudge already came: no timer task, no suspension (the busy worker's common case).
        let id: UInt64? = state.withLock { state in
            if state.pending {
                state.pending = false
                return nil
            }
            state.lastID += 1
            return state.lastID
        }
        guard let id else { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            expire(id)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.pending || state.expired == id {
                    state.pending = false
                    return true
                }
                state.waiter = (id, continuation)
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
    }

    private func expire(_ id: UInt64) {
        let waiter = state.withLock { state in
            state.expired = id
            guard let waiter = state.waiter, waiter.id == id else { return CheckedContinuation<Void, Never>?.none }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }
}

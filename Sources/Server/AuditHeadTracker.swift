import Store
import Synchronization

/// Finds the sequence number of the audit chain's last event through the store's contract alone
/// (events are numbered 1, 2, 3… without gaps), remembering it between calls: one read when
/// nothing was appended since, a few (galloping, then bisecting) when some were, and about
/// 2·log2(N) on the first call for a log of N events — never a scan of the log.
final class AuditHeadTracker: Sendable {
    private let store: any GatewayStore
    private let known = Mutex<Int64>(0)

    init(store: any GatewayStore) {
        self.store = store
    }

    /// The last event's sequence number (0 for an empty log).
    func head() async throws(StoreError) -> Int64 {
        var low = known.withLock { $0 }
        var high = low + 1
        var step: Int64 = 1
        while try await exists(high) {
            low = high
            high = low + step
            step *= 2
        }
        // Event `low` exists (or low is 0) and event `high` does not: bisect between them.
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if try await exists(middle) { low = middle } else { high = middle }
        }
        known.withLock { $0 = max($0, low) }
        return low
    }

    private func exists(_ seq: Int64) async throws(StoreError) -> Bool {
        try await !store.auditEvents(afterSeq: seq - 1, limit: 1).isEmpty
    }
}

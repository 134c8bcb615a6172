import Foundation
import Store

/// A progress line on stderr for long work (`audit export`, `audit verify`): redrawn in place at most
/// ten times a second, erased when done, and shown only when stderr is a terminal (quiet in pipes).
struct ProgressLine {
    let label: String
    let enabled: Bool
    private var lastDraw: ContinuousClock.Instant?

    init(_ label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled
    }

    /// Redraws the line with `text`, unless it was drawn less than 100 ms ago.
    mutating func update(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < .milliseconds(100) { return }
        lastDraw = now
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label): \(text())".utf8))
    }

    /// Erases the line, so the result printed next starts on a clean line.
    func finish() {
        guard enabled, lastDraw != nil else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// `done of total (P%)`, or just `done` while the total is unknown.
    static func fraction(_ done: Int64, of total: Int64) -> String {
        total > 0 ? "\(done) of \(total) (\(min(100, done * 100 / total))%)" : "\(done)"
    }
}

extension GatewayStore {
    /// The highest sequence number in the audit log (0 when empty), found with about 2·log₂(n)
    /// one-row reads, so that progress can show a total without a count over the whole log.
    func auditHeadSeq() async throws(StoreError) -> Int64 {
        func exists(after seq: Int64) async throws(StoreError) -> Bool {
            try await !auditEvents(afterSeq: seq, limit: 1).isEmpty
        }
        guard try await exists(after: 0) else { return 0 }
        // Invariant: an event exists after `low`, none after `high`.
        var low: Int64 = 0
        var high: Int64 = 1
        while try await exists(after: high) {
            low = high
            high *= 2
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if try await exists(after: middle) { low = middle } else { high = middle }
        }
        return high
    }
}

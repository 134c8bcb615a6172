import Foundation

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

import Audit
import Foundation

/// Checks an NDJSON audit export offline (``AuditExportVerifier``): no database, no secret,
/// only the checkpoint signers' public keys.
///
/// Every line must be exactly what the gateway writes for its event (``AuditExportFormat/ndjson``):
/// the line is read, written again and the two compared byte for byte, so a member given twice, a
/// member the export does not have, another order, spacing or escaping is a break naming the line —
/// whatever another JSON reader would make of it. The export is read twice, a megabyte at a time:
/// first for the seqs its checkpoints cover, then to check it keeping only what those need, so
/// memory stays small whatever the export's size.
public enum AuditExportCheck {
    /// The report on the export in `data`; throws when a line is not an audit event as the export writes it.
    public static func verify(
        ndjson data: Data,
        publicKeys: [AuditPublicKey]
    ) throws(AuditExportFileError) -> AuditExportReport {
        try verify(publicKeys: publicKeys) {
            (body: (Data) throws(AuditExportFileError) -> Bool) throws(AuditExportFileError) in
            _ = try body(data)
        }
    }

    /// The report on the export file (``verify(ndjson:publicKeys:)``), which may be larger than memory.
    public static func verify(
        file: URL,
        publicKeys: [AuditPublicKey]
    ) throws(AuditExportFileError) -> AuditExportReport {
        try verify(publicKeys: publicKeys) {
            (body: (Data) throws(AuditExportFileError) -> Bool) throws(AuditExportFileError) in
            let handle: FileHandle
            do {
                handle = try FileHandle(forReadingFrom: file)
            } catch {
                throw AuditExportFileError(line: 0, problem: "cannot read the file")
            }
            defer { try? handle.close() }
            while true {
                let chunk: Data?
                do {
                    chunk = try handle.read(upToCount: 1 << 20)
                } catch {
                    throw AuditExportFileError(line: 0, problem: "cannot read the file")
                }
                guard let chunk, !chunk.isEmpty, try body(chunk) else { return }
            }
        }
    }

    /// Reads the export twice through `chunks`, which hands its bytes in order to its argument
    /// until that returns false.
    private static func verify(
        publicKeys: [AuditPublicKey],
        chunks: ((Data) throws(AuditExportFileError) -> Bool) throws(AuditExportFileError) -> Void
    ) throws(AuditExportFileError) -> AuditExportReport {
        // First pass: the seqs the checkpoints cover. A line that does not read stops it; the
        // second pass reports it where it stands.
        var covered = Set<Int64>()
        var first = ExportLines()
        try chunks { (chunk: Data) throws(AuditExportFileError) -> Bool in
            first.feed(chunk) { _, line in
                guard line.range(of: checkpointMarker) != nil else { return true }
                guard let event = try? parsedEvent(line) else { return false }
                if let seq = AuditExportVerifier.coveredSeq(of: event) { covered.insert(seq) }
                return true
            }
        }
        var verifier = AuditExportVerifier(publicKeys: publicKeys, coveredSeqs: covered)
        var second = ExportLines()
        var failure: AuditExportFileError?
        try chunks { (chunk: Data) throws(AuditExportFileError) -> Bool in
            second.feed(chunk) { number, line in
                do throws(AuditExportLineProblem) {
                    return verifier.feed(try parsedEvent(line))
                } catch {
                    failure = AuditExportFileError(line: number, problem: error.description)
                    return false
                }
            }
        }
        if let failure { throw failure }
        if verifier.report.broken == nil, let number = second.unterminated {
            throw AuditExportFileError(
                line: number,
                problem: "does not end with a line feed (the export was cut short or edited)"
            )
        }
        return verifier.report
    }

    /// What every checkpoint line holds, as the export writes it.
    private static let checkpointMarker = Data(#""action":"audit.checkpoint""#.utf8)

    private static let decoder = JSONDecoder()

    /// The event on `line` (without its line feed), which must be exactly how the export writes it.
    static func parsedEvent(_ line: Data) throws(AuditExportLineProblem) -> AuditEvent {
        let view: AuditEventView
        do {
            view = try decoder.decode(AuditEventView.self, from: line)
        } catch {
            throw .notAnEvent
        }
        let event: AuditEvent
        do {
            event = try view.event()
        } catch {
            throw .malformed(error)
        }
        let canonical = AuditEventView(event).json()
        guard canonical == line else {
            let offset = zip(canonical, line).prefix { $0 == $1 }.count
            throw .notCanonical(offset: offset)
        }
        return event
    }
}

/// The lines of an export handed over in chunks: each complete line (its line feed removed),
/// numbered from 1. A blank line is handed over too (it is not an event).
private struct ExportLines {
    private var pending = Data()
    private var number = 0
    private var stopped = false

    /// The number of a last line that has no line feed after it, once the chunks are all fed.
    var unterminated: Int? { pending.isEmpty || stopped ? nil : number + 1 }

    /// Hands `line` each complete line of what was fed so far; false (from `line`, or after it
    /// stopped) when the rest is not wanted.
    mutating func feed(_ chunk: Data, _ line: (Int, Data) -> Bool) -> Bool {
        guard !stopped else { return false }
        pending.append(chunk)
        var start = pending.startIndex
        while let end = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            number += 1
            guard line(number, Data(pending[start..<end])) else {
                stopped = true
                return false
            }
            start = end + 1
        }
        pending = Data(pending[start...])
        return true
    }
}

/// Why a line of an export is not an audit event as the export writes it.
enum AuditExportLineProblem: Error, CustomStringConvertible {
    case notAnEvent
    case malformed(AuditExportLineError)
    case notCanonical(offset: Int)

    var description: String {
        switch self {
        case .notAnEvent:
            "not an NDJSON audit event"
        case .malformed(let error):
            error.description
        case .notCanonical(let offset):
            "not the event as the export writes it (it differs at byte \(offset + 1): a member repeated, unknown, "
                + "reordered or written another way)"
        }
    }
}

/// A line of an export file that is not an audit event, or a file that cannot be read.
public struct AuditExportFileError: Error, Sendable, CustomStringConvertible {
    /// 1-based line number (0: before the first line).
    public var line: Int
    public var problem: String

    public var description: String { line == 0 ? problem : "line \(line): \(problem)" }
}

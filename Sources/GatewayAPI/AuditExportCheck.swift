import Audit
import Foundation

/// Checks an NDJSON audit export offline (``AuditExportVerifier``): no database, no secret,
/// only the checkpoint signers' public keys.
public enum AuditExportCheck {
    /// The report on the export in `data`; throws when a line is not an audit event.
    public static func verify(
        ndjson data: Data,
        publicKeys: [AuditPublicKey]
    ) throws(AuditExportFileError)
        -> AuditExportReport
    {
        var reader = LineReader(publicKeys: publicKeys)
        try reader.feed(data, final: true)
        return reader.verifier.report
    }

    /// The report on the export file, read a megabyte at a time (an export may be larger than memory).
    public static func verify(
        file: URL,
        publicKeys: [AuditPublicKey]
    ) throws(AuditExportFileError) -> AuditExportReport {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: file)
        } catch {
            throw AuditExportFileError(line: 0, problem: "cannot read the file")
        }
        defer { try? handle.close() }
        var reader = LineReader(publicKeys: publicKeys)
        while !reader.done {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 1 << 20)
            } catch {
                throw AuditExportFileError(line: reader.line, problem: "cannot read the file")
            }
            guard let chunk, !chunk.isEmpty else { break }
            try reader.feed(chunk, final: false)
        }
        try reader.feed(Data(), final: true)
        return reader.verifier.report
    }

    /// Splits the export into lines and feeds each event to the verifier, until it breaks.
    private struct LineReader {
        var verifier: AuditExportVerifier
        let decoder = JSONDecoder()
        var pending = Data()
        /// The number of the last line read.
        var line = 0
        /// The verifier found a break: the rest is not read.
        var done = false

        init(publicKeys: [AuditPublicKey]) {
            verifier = AuditExportVerifier(publicKeys: publicKeys)
        }

        mutating func feed(_ chunk: Data, final: Bool) throws(AuditExportFileError) {
            pending.append(chunk)
            var start = pending.startIndex
            while !done, let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try check(pending[start..<newline])
                start = newline + 1
            }
            pending = Data(pending[start...])
            if final, !done, !pending.isEmpty { try check(pending) }
        }

        private mutating func check(_ text: Data) throws(AuditExportFileError) {
            line += 1
            guard !text.isEmpty else { return }
            let event: AuditEvent
            do {
                event = try decoder.decode(AuditEventView.self, from: text).event()
            } catch let error as AuditExportLineError {
                throw AuditExportFileError(line: line, problem: error.description)
            } catch {
                throw AuditExportFileError(line: line, problem: "not an NDJSON audit event")
            }
            done = !verifier.feed(event)
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

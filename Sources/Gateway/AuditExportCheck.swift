import Audit
import Foundation

/// Checks an NDJSON audit export offline (``AuditExportVerifier``): no database, no secret,
/// only the checkpoint signer's public key.
public enum AuditExportCheck {
    /// The report on the export in `data`; throws when a line is not an audit event.
    public static func verify(
        ndjson data: Data,
        publicKey: AuditPublicKey
    ) throws(AuditExportFileError)
        -> AuditExportReport
    {
        var verifier = AuditExportVerifier(publicKey: publicKey)
        let decoder = JSONDecoder()
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            let event: AuditEvent
            do {
                event = try decoder.decode(AuditEventView.self, from: line).event()
            } catch let error as AuditExportLineError {
                throw AuditExportFileError(line: index + 1, problem: error.description)
            } catch {
                throw AuditExportFileError(line: index + 1, problem: "not an NDJSON audit event")
            }
            guard verifier.feed(event) else { break }
        }
        return verifier.report
    }
}

/// A line of an export file that is not an audit event.
public struct AuditExportFileError: Error, Sendable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    public var problem: String

    public var description: String { "line \(line): \(problem)" }
}

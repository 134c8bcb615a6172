import Audit
import Foundation

/// The audit log as compliance reads it: one event per line as JSON (NDJSON) or CSV, the same
/// from the API (`Accept: application/x-ndjson` / `text/csv`) and from `recovery-gateway audit export`.
public enum AuditExportFormat: String, Sendable, CaseIterable {
    case ndjson
    case csv

    /// The media type of the export.
    public var contentType: String { self == .ndjson ? "application/x-ndjson" : "text/csv; charset=utf-8" }

    /// What comes before the first event (the CSV header row).
    public var header: String {
        self == .csv ? AuditEventView.fields.joined(separator: ",") + "\r\n" : ""
    }

    /// One event, line end included.
    public func line(_ event: AuditEvent) -> String {
        let view = AuditEventView(event)
        switch self {
        case .ndjson:
            return String(decoding: view.json(), as: UTF8.self) + "\n"
        case .csv:
            return view.csvValues.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. A value a
    /// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
    /// return: OWASP's CSV injection rule; `X-Request-Id` and other caller-chosen text land in
    /// these files) gets a `'` before it, which spreadsheets show as text.
    static func csvField(_ value: String) -> String {
        let neutral = value.unicodeScalars.first.map(formulaStarts.contains) == true ? "'" + value : value
        guard neutral.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return neutral }
        return "\"" + neutral.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The first characters that make a spreadsheet read a cell as a formula.
    private static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]
}

import Audit
import Foundation
import GatewayAPI
import Testing

/// The audit export's two formats, line by line: NDJSON (one JSON object per line) and CSV
/// (RFC 4180: a header row, CRLF line ends, fields quoted only when they must be).
@Suite("Audit export formats")
struct AuditExportTests {
    let event = AuditEvent(
        seq: 7,
        id: UUID(uuidString: "0b5a4bde-4a1f-4c64-9a38-6a0f3a8e6c11")!,
        draft: AuditDraft(
            at: Date(timeIntervalSince1970: 1_769_860_800.25),
            actor: "support, desk",
            sourceIP: "192.0.2.1",
            action: .emailRefused,
            identityID: UUID(uuidString: "a251ebc2-880c-4f76-a8f3-38e6940eab0e")!,
            recipientHash: "ab12",
            recipientMasked: "f***@o***.sh",
            outcome: "said \"no\"\ntwice",
            details: ["reason": "ticket #4711"]
        ),
        prevHash: String(repeating: "0", count: 64),
        hash: "cd34"
    )

    @Test func csvHasAHeaderRowAndQuotesOnlyWhatItMust() {
        #expect(
            AuditExportFormat.csv.header
                == "seq,id,at,actor,source_ip,request_id,action,delivery_id,identity_id,recipient_hash,"
                + "recipient_masked,outcome,details,prev_hash,hash,key_id\r\n"
        )
        let line = AuditExportFormat.csv.line(event)
        #expect(line.hasSuffix("\r\n"))
        #expect(
            line.hasPrefix(
                "7,0b5a4bde-4a1f-4c64-9a38-6a0f3a8e6c11,2026-01-31T12:00:00.250000Z,\"support, desk\",192.0.2.1,,"
            )
        )
        // A quote is doubled, a line break kept inside the quotes; details are one JSON field.
        #expect(line.contains(",\"said \"\"no\"\"\ntwice\","))
        #expect(line.contains(",\"{\"\"reason\"\":\"\"ticket #4711\"\"}\","))
        // key_id last: empty for an event sealed before events named their key.
        #expect(line.hasSuffix(",\(String(repeating: "0", count: 64)),cd34,\r\n"))
        var named = event
        named.keyID = "0123456789abcdef"
        #expect(AuditExportFormat.csv.line(named).hasSuffix(",cd34,0123456789abcdef\r\n"))
    }

    /// OWASP's CSV injection rule: a cell a spreadsheet would run as a formula starts with `'`.
    @Test(arguments: ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
    func csvCellsThatAreFormulasAreNeutralised(text: String) {
        var formula = event
        formula.draft.requestID = text
        formula.draft.actor = text + ",x"
        let line = AuditExportFormat.csv.line(formula)
        #expect(line.contains(",'\(text),") || line.contains(",\"'\(text)\","))
        #expect(line.contains(",\"'\(text),x\","))
        #expect(!line.contains(",\(text)"))
        // Only the first character counts: text with a formula sign inside stays as it is.
        formula.draft.requestID = "a" + text
        #expect(AuditExportFormat.csv.line(formula).contains(",a\(text),") || text.hasPrefix("\r"))
    }

    @Test func ndjsonIsOneObjectPerLine() throws {
        #expect(AuditExportFormat.ndjson.header == "")
        let line = AuditExportFormat.ndjson.line(event)
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["seq"] as? Int == 7)
        #expect(object["actor"] as? String == "support, desk")
        #expect(object["outcome"] as? String == "said \"no\"\ntwice")
        #expect(object["recipient_masked"] as? String == "f***@o***.sh")
        #expect(object["request_id"] == nil)
        #expect(object["key_id"] == nil)
    }

    @Test func eachFormatNamesItsMediaType() {
        #expect(AuditExportFormat.ndjson.contentType == "application/x-ndjson")
        #expect(AuditExportFormat.csv.contentType == "text/csv; charset=utf-8")
    }
}

import Audit
import Foundation
import GatewayAPI
import Testing

/// The offline check reads an export's bytes (issue 23): a line is the gateway's own encoding of its
/// event or a break naming the line, and the export is read in two passes keeping what checkpoints need.
@Suite struct AuditExportBytesTests {
    let chain = AuditChain(key: try! AuditKey(bytes: [UInt8](repeating: 3, count: 32)))
    let key = AuditSigningKey(seed: [UInt8](repeating: 4, count: 32))

    /// `count` events, a checkpoint of them all, and one more event: the export's lines (each with its "\n").
    func lines(_ count: Int) -> [String] {
        var events: [AuditEvent] = []
        var digest = AuditDigest()
        func append(_ draft: AuditDraft) {
            let event = chain.seal(
                draft,
                seq: Int64(events.count + 1),
                prevHash: events.last?.hash ?? AuditEvent.genesisHash
            )
            digest.add(event)
            events.append(event)
        }
        for index in 0..<count {
            append(AuditDraft(at: Date(), actor: "backend", action: .emailRefused, details: ["reason": "n/\(index)"]))
        }
        let checkpoint = AuditCheckpoint(
            seq: Int64(count),
            digest: digest,
            head: events[count - 1].hash,
            at: Date(),
            key: key
        )
        append(AuditDraft(at: Date(), actor: "system", action: .auditCheckpoint, details: checkpoint.details))
        append(AuditDraft(at: Date(), actor: "backend", action: .emailRefused))
        return events.map(AuditExportFormat.ndjson.line)
    }

    func check(_ lines: [String]) throws(AuditExportFileError) -> AuditExportReport {
        try AuditExportCheck.verify(ndjson: Data(lines.joined().utf8), publicKeys: [key.publicKey])
    }

    @Test func theGatewaysOwnExportVerifies() throws {
        let lines = lines(5)
        let report = try check(lines)
        #expect(report.broken == nil)
        #expect(report.lastSeq == 7)
        #expect(report.checkpoints == 1)
        #expect(report.lastCheckpoint?.checkpoint.seq == 5)
        #expect(report.unsignedTail == 2)
        let last = try JSONSerialization.jsonObject(with: Data(lines[6].utf8)) as? [String: Any]
        #expect(report.head != nil && report.head == last?["hash"] as? String)
    }

    /// `line` changed so that Foundation's decoder still reads the same event from it.
    static func changed(_ line: String, by change: String) -> String {
        switch change {
        case "a member twice": String(line.dropLast(2)) + #","actor":"mallory"}"# + "\n"
        case "an unknown member": String(line.dropLast(2)) + #","approved_by":"ciso"}"# + "\n"
        case "an escaped slash": line.replacingOccurrences(of: "n/", with: #"n\/"#)
        case "a space": line.replacingOccurrences(of: #""seq":"#, with: #""seq": "#)
        case "CRLF": String(line.dropLast()) + "\r\n"
        default: "\n" + line  // a blank line before it
        }
    }

    @Test(arguments: ["a member twice", "an unknown member", "an escaped slash", "a space", "CRLF", "a blank line"])
    func anyOtherFormOfACoveredLineIsABreakNamingIt(change: String) throws {
        var lines = lines(5)
        let original = lines[2]
        lines[2] = Self.changed(original, by: change)
        #expect(lines[2] != original)
        let error = try #require(throws: AuditExportFileError.self) { try check(lines) }
        #expect(error.line == 3)
    }

    @Test func aLastLineWithoutItsLineFeedIsABreak() throws {
        var lines = lines(3)
        lines[lines.count - 1].removeLast()
        let error = try #require(throws: AuditExportFileError.self) { try check(lines) }
        #expect(error.line == lines.count)
        #expect(error.problem.contains("line feed"))
    }

    /// Given the covered seqs, the verifier keeps only theirs; a checkpoint covering a seq it was not
    /// told of matches nothing (a break, never a pass).
    @Test func theVerifierKeepsOnlyTheCoveredSeqs() throws {
        let events = lines(4)
        var told = AuditExportVerifier(publicKeys: [key.publicKey], coveredSeqs: [4])
        var untold = AuditExportVerifier(publicKeys: [key.publicKey], coveredSeqs: [])
        for line in events {
            let event = try JSONDecoder().decode(AuditEventView.self, from: Data(line.utf8)).event()
            #expect(AuditExportVerifier.coveredSeq(of: event) == (event.seq == 5 ? 4 : nil))
            told.feed(event)
            untold.feed(event)
        }
        #expect(told.report.broken == nil && told.report.checkpoints == 1)
        #expect(untold.report.broken?.seq == 5)
    }
}

import ArgumentParser
import Audit
import Foundation
import GatewayAPI
import GatewayConfiguration

/// `audit public-key`: the public half of the checkpoint signing key, for auditors.
struct AuditPublicKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public-key",
        abstract: "Print the public key that checks the audit log's signed checkpoints (PEM, as openssl reads it).",
        discussion:
            "Give it to auditors with an export: `audit verify --file EXPORT --public-key FILE` needs nothing else."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        do {
            let key = try configuration.audit.resolveSigningKey(createIfMissing: false)
            print(key.publicKey.pem, terminator: "")
        } catch {
            throw operationFailed("\(error)")
        }
    }
}

/// `audit verify --file EXPORT --public-key FILE…`: checks an NDJSON export with no database and no
/// secret, and says what it proves (and, given several signing keys, which signed what); exit 0 when
/// a signed checkpoint covers it and nothing is broken, 1 when the export is broken, nothing in it
/// is signed or what the auditor demanded does not hold, 2 when a file cannot be read.
struct OfflineAuditVerification {
    let file: String
    let publicKeyFiles: [String]
    /// `--require-signed`: every event but checkpoints after the last signed seq is covered.
    var requireSigned = false
    /// `--expect-head`, `--expect-seq`: the last event the auditor was told of, apart from the export.
    var expectedHead: String?
    var expectedSeq: Int64?

    func run() throws {
        var keys: [AuditPublicKey] = []
        for publicKeyFile in publicKeyFiles {
            guard let keyText = try? String(contentsOfFile: publicKeyFile, encoding: .utf8),
                let key = AuditPublicKey(text: keyText)
            else {
                throw ValidationError(
                    "--public-key \(publicKeyFile): not a readable Ed25519 public key (PEM or base64)"
                )
            }
            keys.append(key)
        }
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw ValidationError("--file \(file): cannot read the file")
        }
        let report: AuditExportReport
        do {
            report = try AuditExportCheck.verify(file: URL(fileURLWithPath: file), publicKeys: keys)
        } catch {
            throw operationFailed("--file \(file): \(error)")
        }
        if let broken = report.broken {
            if report.lastSeq > 0 { print("linked: seq 1-\(report.lastSeq), then broken") }
            throw operationFailed("audit export broken: \(broken)")
        }
        print("linked: seq 1-\(report.lastSeq): every event follows the one before (no gap, no reordering)")
        guard let last = report.lastCheckpoint else {
            throw operationFailed(
                "not proven: no checkpoint signed by key id \(keys.map(\.keyID).joined(separator: " or ")) in seq "
                    + "1-\(report.lastSeq); nothing here is signed"
            )
        }
        let checkpoint = last.checkpoint
        print(
            "signed: seq 1-\(checkpoint.seq) by the checkpoint at seq \(last.eventSeq), signed \(checkpoint.signedAt)"
                + " with key id \(checkpoint.keyID) (\(report.checkpoints) checkpoints verified)"
        )
        if keys.count > 1 {
            let ranges = report.signers.ranges.map { "seq \($0.first)-\($0.last) by key id \($0.keyID)" }
            print("signing keys: " + ranges.joined(separator: ", "))
        }
        if report.unsignedTail == 0 {
            print("unsigned tail: none")
        } else {
            let count = report.unsignedTail
            let own = report.unsignedTailCheckpoints
            let kind = own == 0 ? "" : own == count ? ", checkpoints only" : ", \(own) of them checkpoints"
            print(
                "unsigned tail: seq \(checkpoint.seq + 1)-\(report.lastSeq) (\(count) event\(count == 1 ? "" : "s")\(kind))"
                    + " linked but no signature covers them yet; events after seq \(report.lastSeq), if any, are not in this export"
            )
        }
        try checkDemands(report)
    }

    /// What the auditor asked for on top: every event signed, the head and length they were told.
    private func checkDemands(_ report: AuditExportReport) throws {
        if requireSigned {
            let unsigned = report.unsignedTail - report.unsignedTailCheckpoints
            guard unsigned == 0 else {
                throw operationFailed(
                    "not every event is signed (--require-signed): \(unsigned) event\(unsigned == 1 ? "" : "s") after "
                        + "seq \(report.lastCheckpoint?.checkpoint.seq ?? 0) that no signature covers"
                )
            }
            print("require signed: every event is covered by a signature")
        }
        if let expectedSeq {
            guard report.lastSeq == expectedSeq else {
                throw operationFailed(
                    "the export ends at seq \(report.lastSeq), not the expected \(expectedSeq) (--expect-seq)"
                )
            }
            print("expected seq: the export ends at seq \(expectedSeq)")
        }
        if let expectedHead {
            guard report.head == expectedHead else {
                throw operationFailed(
                    "the export's last event (seq \(report.lastSeq)) has hash \(report.head ?? "none"), not the expected "
                        + "\(expectedHead) (--expect-head)"
                )
            }
            print("expected head: seq \(report.lastSeq) has hash \(expectedHead)")
        }
    }
}

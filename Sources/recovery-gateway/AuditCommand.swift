import ArgumentParser
import Audit
import Foundation
import GatewayAPI
import GatewayConfiguration
import RFC3339
import Store
import Wiring

/// The audit keys of the configuration (current and previous), as `serve` would use them.
func auditChain(_ configuration: GatewayConfiguration, createIfMissing: Bool = true) throws -> AuditChain {
    do {
        return AuditChain(keys: try configuration.audit.resolveKeyRing(createIfMissing: createIfMissing))
    } catch {
        throw operationFailed("\(error)")
    }
}

/// `recovery-gateway audit`: export and verify the audit log, straight from the store.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Export or verify the audit log (read from the store; the gateway may be running).",
        subcommands: [Export.self, Verify.self, AuditPublicKeyCommand.self, AuditRotateKeyCommand.self]
    )

    /// `audit export`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the audit log (or a time range of it) as NDJSON or CSV.",
            discussion: "Shows progress on stderr when it is a terminal (and the events do not go to that terminal)."
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: ArgumentHelp("ndjson or csv.", valueName: "format"))
        var format: AuditExportFormat = .ndjson

        @Option(help: ArgumentHelp("Only events at or after this RFC 3339 time.", valueName: "time"))
        var since: String?

        @Option(help: ArgumentHelp("Only events before this RFC 3339 time.", valueName: "time"))
        var until: String?

        @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
        var output: String?

        func validate() throws {
            _ = try time(since, "--since")
            _ = try time(until, "--until")
        }

        func run() async throws {
            var query = AuditQuery(
                since: try time(since, "--since"),
                until: try time(until, "--until"),
                limit: PageLimit.range.upperBound
            )
            let configuration = try options.load()
            try await withExistingStore(configuration) { store in
                var progress = ProgressLine(
                    "audit export",
                    enabled: Terminal.stderrIsTTY && (output != nil || !Terminal.stdoutIsTTY)
                )
                let head = try await progress.enabled ? headSeq(store) : 0
                let sink: FileHandle
                if let output {
                    guard FileManager.default.createFile(atPath: output, contents: nil) else {
                        throw operationFailed("--output \(output): cannot create the file")
                    }
                    sink = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
                } else {
                    sink = FileHandle.standardOutput
                }
                sink.write(Data(format.header.utf8))
                var written: Int64 = 0
                while true {
                    let page = try await read { () async throws(StoreError) in try await store.auditEvents(query) }
                    sink.write(Data(page.items.map(format.line).joined().utf8))
                    written += Int64(page.items.count)
                    if let last = page.items.last {
                        progress.update("\(written) events written, seq \(ProgressLine.fraction(last.seq, of: head))")
                    }
                    guard let next = page.nextCursor else { break }
                    query.cursor = next
                }
                progress.finish()
                if output != nil { try? sink.close() }
            }
        }
    }

    /// `audit verify`.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check the audit chain: prints the events checked and the head hash, or the first broken sequence number (exit 1).",
            discussion: """
                Shows progress on stderr when it is a terminal. With --file and --public-key it checks an NDJSON \
                export offline instead (no database, no secret): the links between events and every signed \
                checkpoint, and prints up to which seq the export is signed.
                """
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: ArgumentHelp("An NDJSON export to check offline (needs --public-key).", valueName: "file"))
        var file: String?

        @Option(
            help: ArgumentHelp(
                "The checkpoint key (`audit public-key`'s output) to check --file with; once per signing key "
                    + "when it was changed.",
                valueName: "file"
            )
        )
        var publicKey: [String] = []

        @Flag(
            help: ArgumentHelp(
                "With --file: fail unless a verified signature covers every event (a checkpoint after the last "
                    + "signed seq vouches for itself)."
            )
        )
        var requireSigned = false

        @Option(
            help: ArgumentHelp(
                "With --file: fail unless the export's last event has this hash (the head you were given apart "
                    + "from the export).",
                valueName: "hash"
            )
        )
        var expectHead: String?

        @Option(
            help: ArgumentHelp(
                "With --file: fail unless the export's last event is this seq (the log's length you were given).",
                valueName: "seq"
            )
        )
        var expectSeq: Int64?

        func validate() throws {
            guard (file == nil) == publicKey.isEmpty else {
                throw ValidationError("--file and --public-key go together")
            }
            guard file != nil || (!requireSigned && expectHead == nil && expectSeq == nil) else {
                throw ValidationError("--require-signed, --expect-head and --expect-seq check an export: give --file")
            }
            if let expectHead, Hex.decode(expectHead)?.count != 32 {
                throw ValidationError("--expect-head: must be a hash of 64 hex digits")
            }
            if let expectSeq, expectSeq < 1 {
                throw ValidationError("--expect-seq: must be a seq from 1")
            }
        }

        /// Events read per query.
        static let batchSize = 1000

        /// What a hash mismatch says about the key besides tampering.
        static let keyHint = "; check that audit.key_file holds the key the gateway seals with"

        func run() async throws {
            if let file {
                return try OfflineAuditVerification(
                    file: file,
                    publicKeyFiles: publicKey,
                    requireSigned: requireSigned,
                    expectedHead: expectHead?.lowercased(),
                    expectedSeq: expectSeq
                ).run()
            }
            let configuration = try options.load()
            // A missing key is an error here: a new one would only make every event look tampered with.
            let chain = try auditChain(configuration, createIfMissing: false)
            let result = try await withExistingStore(configuration, chain: chain, checkKey: false) { store in
                var progress = ProgressLine("audit verify", enabled: Terminal.stderrIsTTY)
                let head = try await progress.enabled ? headSeq(store) : 0
                var verifier = chain.verifier()
                var after: Int64 = 0
                reading: while true {
                    let batch = try await read { () async throws(StoreError) in
                        try await store.auditEvents(afterSeq: after, limit: Self.batchSize)
                    }
                    for event in batch where !verifier.feed(event) { break reading }
                    guard let last = batch.last else { break }
                    progress.update("checked \(ProgressLine.fraction(last.seq, of: head)) events")
                    guard batch.count == Self.batchSize else { break }
                    after = last.seq
                }
                progress.finish()
                return verifier.result
            }
            switch result {
            case .ok(let events, let head):
                print("ok: \(events) events, head \(head)")
            case .broken(let seq, let reason):
                throw operationFailed(
                    "audit chain broken at seq \(seq): \(reason)\(reason == .hashMismatch ? Self.keyHint : "")"
                )
            }
        }
    }
}

/// Runs `body` on the configured store, opened read-only (never migrated: a schema other than
/// this version's is an error naming both versions), and closes the store however
/// `body` ends (a PostgreSQL pool then says goodbye to the server instead of dropping its
/// connections at exit). A SQLite file that does not exist yet is an error (exit 1) rather than an
/// empty store made on the spot.
private func withExistingStore<T>(
    _ configuration: GatewayConfiguration,
    chain: AuditChain? = nil,
    checkKey: Bool = true,
    _ body: (any GatewayStore) async throws -> T
) async throws -> T {
    if case .sqlite(let path) = configuration.store.kind, !FileManager.default.fileExists(atPath: path) {
        throw operationFailed("store.url: no database at \(path) (run migrate or serve first)")
    }
    let store: any GatewayStore
    do {
        store = try await GatewayRuntime.openStore(
            configuration,
            chain: try chain ?? auditChain(configuration, createIfMissing: false),
            readOnly: true,
            checkKey: checkKey
        )
    } catch {
        throw operationFailed("cannot open the store: \(error)")
    }
    do {
        let value = try await body(store)
        await store.close()
        return value
    } catch {
        await store.close()
        throw error
    }
}

/// The audit log's last sequence number, for the progress line's total.
private func headSeq(_ store: any GatewayStore) async throws -> Int64 {
    try await read { () async throws(StoreError) in try await store.auditHead() }
}

/// Runs a store read; a failure ends the command with exit 1.
private func read<T>(_ body: () async throws(StoreError) -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw operationFailed("cannot read the audit log: \(error)")
    }
}

private func time(_ text: String?, _ option: String) throws -> Date? {
    guard let text else { return nil }
    guard let date = RFC3339.parse(text) else {
        throw ValidationError("\(option) must be an RFC 3339 time such as 2026-01-31T12:00:00Z")
    }
    return date
}

import ArgumentParser
import Audit
import Foundation
import Gateway
import GatewayConfiguration
import Server
import Store

/// The audit key of the configuration, as `serve` would use it.
func auditChain(_ configuration: GatewayConfiguration) throws -> AuditChain {
    do {
        return AuditChain(key: try configuration.audit.resolveKey(createIfMissing: true))
    } catch {
        throw operationFailed("\(error)")
    }
}

/// `recovery-gateway audit`: export and verify the audit log, straight from the store.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Export or verify the audit log.",
        subcommands: [Export.self, Verify.self]
    )

    /// `audit export`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the audit log (or a time range of it) as NDJSON or CSV."
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: "ndjson or csv.")
        var format: String = "ndjson"

        @Option(help: "Only events at or after this RFC 3339 time.")
        var since: String?

        @Option(help: "Only events before this RFC 3339 time.")
        var until: String?

        @Option(help: "Write to this file instead of standard output.")
        var output: String?

        func run() async throws {
            guard let format = AuditExportFormat(rawValue: format) else {
                throw ValidationError("--format must be ndjson or csv")
            }
            var query = AuditQuery(since: try time(since, "--since"), until: try time(until, "--until"), limit: 200)
            let configuration = try options.load()
            let store = try await openStore(configuration)
            let sink: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil) else {
                    throw operationFailed("cannot write \(output)")
                }
                sink = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            } else {
                sink = FileHandle.standardOutput
            }
            sink.write(Data(format.header.utf8))
            while true {
                let page: Page<AuditEvent>
                do {
                    page = try await store.auditEvents(query)
                } catch {
                    throw operationFailed("cannot read the audit log: \(error)")
                }
                sink.write(Data(page.items.map(format.line).joined().utf8))
                guard let next = page.nextCursor else { break }
                query.cursor = next
            }
        }
    }

    /// `audit verify`.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check the audit chain: prints the events checked and the head hash, or the first broken sequence number (exit 1)."
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let store = try await openStore(configuration)
            let result: AuditVerification
            do {
                result = try await store.verifyAudit(chain: try auditChain(configuration))
            } catch {
                throw operationFailed("cannot read the audit log: \(error)")
            }
            switch result {
            case .ok(let events, let head):
                print("ok: \(events) events, head \(head)")
            case .broken(let seq, let reason):
                throw operationFailed("audit chain broken at seq \(seq): \(reason)")
            }
        }
    }
}

private func openStore(_ configuration: GatewayConfiguration) async throws -> any GatewayStore {
    do {
        return try await GatewayRuntime.openStore(configuration, chain: try auditChain(configuration))
    } catch {
        throw operationFailed("cannot open the store: \(error)")
    }
}

private func time(_ text: String?, _ option: String) throws -> Date? {
    guard let text else { return nil }
    guard let date = try? Date(text, strategy: .iso8601) else {
        throw ValidationError("\(option) must be an RFC 3339 time such as 2026-01-31T12:00:00Z")
    }
    return date
}

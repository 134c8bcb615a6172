import ArgumentParser
import Foundation
import Gateway
import NIOHTTP1
import Templates

/// `recovery-gateway batch`: recovery emails for a list of identities.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Recovery emails for a list of identities (so far: the dry run).",
        subcommands: [BatchSendCommand.self]
    )
}

/// `recovery-gateway batch send --dry-run`: asks a running gateway what a batch would send
/// (`POST /v1/recovery-batches`, the file streamed as NDJSON) and prints the summary.
struct BatchSendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Check a batch against Kratos and the send rules without sending (--dry-run).",
        discussion: """
            The file is read by its extension: .ndjson/.jsonl holds one item per line (a JSON string, \
            an identity id or a login email, or an object with identity_id or email and optionally \
            recipient); .csv takes the first column of each line (a header line naming identity_id, \
            email or id is skipped); any other file holds one identity id or login email per line. \
            Lines are reported by their number in the file. Sending batches is not available yet: \
            without --dry-run the command exits 2. Exit 1 when the gateway refuses or fails, 2 when \
            it refuses a field of the request.
            """
    )

    @Option(help: ArgumentHelp("The list of identities: ids.txt, ids.csv or ids.ndjson.", valueName: "path"))
    var file: String

    @Option(help: ArgumentHelp("Why the emails are sent; required, kept in the audit log.", valueName: "text"))
    var reason: String

    @Flag(help: "Only check what would be sent: no link, no email, nothing stored.")
    var dryRun = false

    @Option(help: ArgumentHelp("link or code (default: the gateway's delivery.default_method).", valueName: "method"))
    var method: RecoveryMethod?

    @Option(help: ArgumentHelp("The template name (default: the method's own).", valueName: "name"))
    var template: String?

    @Option(help: ArgumentHelp("The BCP 47 locale, e.g. de-CH.", valueName: "tag"))
    var locale: String?

    @Option(help: ArgumentHelp("How long the links or codes stay valid, e.g. 1h.", valueName: "duration"))
    var expiresIn: String?

    @Flag(help: "Print the gateway's JSON report instead of the summary.")
    var json = false

    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard dryRun else {
            throw ValidationError("sending batches is not available yet; --dry-run checks a batch without sending")
        }
    }

    func run() async throws {
        let api = try server.client()
        let body: Data
        do {
            body = try BatchFile.ndjson(path: file)
        } catch {
            throw ValidationError("--file \(file): \(error.localizedDescription)")
        }
        var query = URLComponents()
        query.queryItems = [
            ("dry_run", "true"), ("reason", reason), ("method", method?.rawValue), ("template", template),
            ("locale", locale), ("expires_in", expiresIn),
        ].compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        // `+` is a space in a query; an address may hold one.
        let encoded = query.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        let answer = try await api.send(
            .POST,
            "/v1/recovery-batches?" + encoded,
            body: body,
            contentType: "application/x-ndjson",
            timeout: .seconds(600),
            maximumBody: 256 << 20
        )
        let data = try answer.success()
        if json {
            FileHandle.standardOutput.write(data)
            print()
            return
        }
        print(try BatchSummary(data).text)
    }
}

/// A batch file as the NDJSON lines the gateway reads, one line for each line of the file (so the
/// gateway's line numbers are the file's).
enum BatchFile {
    static func ndjson(path: String) throws -> Data {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let format = URL(fileURLWithPath: path).pathExtension.lowercased()
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            switch format {
            case "ndjson", "jsonl":
                lines.append(trimmed)
            case "csv":
                let first = trimmed.split(separator: ",", omittingEmptySubsequences: false).first ?? ""
                let value = first.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                let header = lines.allSatisfy(\.isEmpty) && ["identity_id", "email", "id"].contains(value.lowercased())
                lines.append(header ? "" : quoted(value))
            default:
                lines.append(quoted(trimmed))
            }
        }
        return Data(lines.joined(separator: "\n").utf8)
    }

    /// `value` as a JSON string; an empty line stays empty (the gateway skips it).
    private static func quoted(_ value: String) -> String {
        guard !value.isEmpty, let data = try? JSONEncoder().encode(value) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The dry run's report as lines: the counts, then every item that would not be sent.
struct BatchSummary {
    let text: String

    private struct Report: Decodable {
        let total: Int
        let counts: [String: Int]
        let items: [Item]
    }

    private struct Item: Decodable {
        let position: Int
        let outcome: String
        let reason: String?
    }

    init(_ data: Data) throws {
        let report = try JSONDecoder().decode(Report.self, from: data)
        var lines = ["dry run: nothing sent, nothing stored", "items                  \(report.total)"]
        for outcome in BatchOutcome.allCases {
            let name = outcome.rawValue
            lines.append(name + String(repeating: " ", count: max(1, 23 - name.count)) + "\(report.counts[name] ?? 0)")
        }
        for item in report.items where item.outcome != BatchOutcome.wouldSend.rawValue {
            lines.append("line \(item.position): \(item.outcome)" + (item.reason.map { " (\($0))" } ?? ""))
        }
        text = lines.joined(separator: "\n")
    }
}

import ArgumentParser
import Domain
import Foundation
import GatewayAPI
import NIOHTTP1
import Store
import Templates
import UUIDText

/// `recovery-gateway batch`: recovery emails for a list of identities.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Recovery emails for a list of identities: send (or dry-run) a batch, follow and steer it.",
        subcommands: [
            BatchSendCommand.self, BatchStatusCommand.self, BatchPauseCommand.self, BatchResumeCommand.self,
            BatchCancelCommand.self, BatchReportCommand.self,
        ]
    )
}

/// `recovery-gateway batch send`: sends a batch to a running gateway (`POST /v1/recovery-batches`,
/// the file streamed as NDJSON) and follows it to its end, or (`--dry-run`) asks what it would send.
struct BatchSendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a batch of recovery emails at a pace (or check it with --dry-run).",
        discussion: """
            The file is read by its extension: .ndjson/.jsonl holds one item per line (a JSON string, \
            an identity id or a login email, or an object with identity_id or email and optionally \
            recipient); .csv takes the first column of each line (a header line naming identity_id, \
            email or id is skipped); any other file holds one identity id or login email per line. \
            Lines are reported by their number in the file. Without --dry-run the batch is stored \
            under an idempotency key (printed first; the same command with --idempotency-key KEY \
            resumes an upload cut short or answers the stored batch) and sent at --rate emails per \
            second; the command follows it until it is done, with a progress line on a terminal \
            (--detach returns once it is stored). Exit 1 when the gateway refuses or fails, 2 when it \
            refuses a field of the request.
            """
    )

    @Option(help: ArgumentHelp("The list of identities: ids.txt, ids.csv or ids.ndjson.", valueName: "path"))
    var file: String

    @Option(help: ArgumentHelp("Why the emails are sent; required, kept in the audit log.", valueName: "text"))
    var reason: String

    @Flag(help: "Only check what would be sent: no link, no email, nothing stored.")
    var dryRun = false

    @Option(help: ArgumentHelp("Emails per second, 1 to 1000 (default: the gateway's).", valueName: "n"))
    var rate: Int?

    @Option(help: ArgumentHelp("The batch's idempotency key (default: a new one, printed).", valueName: "key"))
    var idempotencyKey: String?

    @Flag(help: "Return once the batch is stored instead of following it.")
    var detach = false

    @Option(help: ArgumentHelp("link or code (default: the gateway's delivery.default_method).", valueName: "method"))
    var method: RecoveryMethod?

    @Option(help: ArgumentHelp("The template name (default: the method's own).", valueName: "name"))
    var template: String?

    @Option(help: ArgumentHelp("The BCP 47 locale, e.g. de-CH.", valueName: "tag"))
    var locale: String?

    @Option(help: ArgumentHelp("How long the links or codes stay valid, e.g. 1h.", valueName: "duration"))
    var expiresIn: String?

    @Flag(help: "Print the gateway's JSON answer instead of the summary.")
    var json = false

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if let rate, !RecoveryBatch.rates.contains(rate) {
            throw ValidationError(
                "--rate must be from \(RecoveryBatch.rates.lowerBound) to \(RecoveryBatch.rates.upperBound)"
            )
        }
        if let idempotencyKey, !IdempotencyKey.isValid(idempotencyKey) {
            throw ValidationError("--idempotency-key must be \(IdempotencyKey.rule)")
        }
        if dryRun && (rate != nil || idempotencyKey != nil || detach) {
            throw ValidationError("--dry-run sends nothing: --rate, --idempotency-key and --detach do not apply")
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
            ("dry_run", dryRun ? "true" : nil), ("reason", reason), ("method", method?.rawValue),
            ("template", template), ("locale", locale), ("expires_in", expiresIn), ("rate", rate.map(String.init)),
        ].compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        // `+` is a space in a query; an address may hold one.
        let encoded = query.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        let key = idempotencyKey ?? "cli-" + UUID().lowercasedString
        let retry = " (idempotency key \(key): retry with --idempotency-key \(key))"
        if !dryRun && !json { print("idempotency key  \(key)") }
        let answer = try await api.send(
            .POST,
            "/v1/recovery-batches?" + encoded,
            headers: dryRun ? [] : [("Idempotency-Key", key)],
            body: body,
            contentType: "application/x-ndjson",
            timeout: .seconds(600),
            maximumBody: 256 << 20,
            hint: dryRun ? "" : retry
        )
        let data = try answer.success(hint: dryRun ? "" : retry)
        if dryRun {
            if json {
                FileHandle.standardOutput.write(data)
                print()
            } else {
                print(try BatchSummary(data).text)
            }
            return
        }
        var (batch, last) = (try BatchText.decode(data), data)
        if !detach { (batch, last) = try await BatchText.follow(batch, data: data, api: api) }
        if json {
            FileHandle.standardOutput.write(last)
            print()
        } else {
            print(BatchText.lines(batch))
        }
    }
}

/// `recovery-gateway batch status ID`: a batch's state and counts (`GET /v1/recovery-batches/{id}`).
struct BatchStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a batch: status, rate, items by outcome, deliveries by status, ETA."
    )

    @OptionGroup var batch: BatchTarget

    @Flag(help: "Print the API's JSON answer.") var json = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let data = try await server.client().send(.GET, batch.path).success()
        if json {
            FileHandle.standardOutput.write(data)
            print()
        } else {
            print(BatchText.lines(try BatchText.decode(data)))
        }
    }
}

/// `recovery-gateway batch pause|resume|cancel ID`: the three changes of a batch's state, each
/// a command of its own that names its ``action``.
protocol BatchStateCommand: AsyncParsableCommand {
    /// The last part of the route: `pause`, `resume` or `cancel`.
    static var action: String { get }
    var options: BatchStateOptions { get }
}

/// What pause, resume and cancel take: the batch, why, `--json` and the gateway.
struct BatchStateOptions: ParsableArguments {
    @OptionGroup var batch: BatchTarget
    @Option(help: ArgumentHelp("Why (kept in the audit event; shown with a paused batch).", valueName: "text"))
    var reason: String?
    @Flag(help: "Print the API's JSON answer.") var json = false
    @OptionGroup var server: ServerOptions
}

extension BatchStateCommand {
    /// Posts ``action`` for the batch and prints the batch after it (and, for a cancel, how many
    /// items it stopped and how many were already on the wire).
    func run() async throws {
        let body = try options.reason.map { try JSONEncoder().encode(["reason": $0]) }
        let data = try await options.server.client().send(.POST, options.batch.path + "/" + Self.action, body: body)
            .success()
        if options.json {
            FileHandle.standardOutput.write(data)
            print()
            return
        }
        let change: BatchText.Change
        do {
            change = try JSONDecoder().decode(BatchText.Change.self, from: data)
        } catch {
            throw operationFailed("the gateway's answer is not a batch: \(error)")
        }
        print(BatchText.lines(change.batch))
        if let stopped = change.cancelledItems { print("stopped                \(stopped) items not yet sent") }
        if let sending = change.onTheWire { print("on the wire            \(sending) items already being sent") }
    }
}

/// `recovery-gateway batch pause ID`.
struct BatchPauseCommand: BatchStateCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Hold a running batch.")
    static let action = "pause"
    @OptionGroup var options: BatchStateOptions
}

/// `recovery-gateway batch resume ID`.
struct BatchResumeCommand: BatchStateCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Go on with a paused batch.")
    static let action = "resume"
    @OptionGroup var options: BatchStateOptions
}

/// `recovery-gateway batch cancel ID`.
struct BatchCancelCommand: BatchStateCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Stop a batch for good: its items not yet sent are not sent (prints how many)."
    )
    static let action = "cancel"
    @OptionGroup var options: BatchStateOptions
}

/// `recovery-gateway batch report ID`: every item's outcome as CSV on standard output, streamed.
struct BatchReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a batch's items as CSV (position, outcome, identity, masked recipient, delivery, reason)."
    )

    @OptionGroup var batch: BatchTarget

    @Option(help: ArgumentHelp("Only the items of this outcome, e.g. not_found.", valueName: "outcome"))
    var outcome: BatchItemOutcome?

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let filter = outcome.map { "?outcome=\($0.rawValue)" } ?? ""
        try await server.client().stream(
            batch.path + "/items" + filter,
            accept: "text/csv",
            to: .standardOutput
        )
    }
}

extension BatchItemOutcome: ExpressibleByArgument {}

/// The batch a command is about: its id, the first argument.
struct BatchTarget: ParsableArguments {
    @Argument(help: ArgumentHelp("The batch id (a UUID, as batch send printed it).", valueName: "id"))
    var id: String

    func validate() throws {
        guard UUID(text: id) != nil else { throw ValidationError("the batch id must be a UUID") }
    }

    /// The batch's URL path.
    var path: String { "/v1/recovery-batches/\(id.lowercased())" }
}

/// A batch as the commands print it, and the following of one to its end.
enum BatchText {
    /// The API's answer to pause, resume and cancel.
    struct Change: Decodable {
        let batch: View
        let cancelledItems: Int?
        let onTheWire: Int?

        enum CodingKeys: String, CodingKey {
            case batch
            case cancelledItems = "cancelled_items"
            case onTheWire = "on_the_wire"
        }
    }

    /// The API's batch (``BatchView``) as read back.
    struct View: Decodable {
        let id: String
        let status: String
        let rate: Int
        let total: Int
        let counts: [String: Int]
        let deliveries: [String: Int]
        let etaSeconds: Int?
        let pausedReason: String?

        enum CodingKeys: String, CodingKey {
            case id, status, rate, total, counts, deliveries
            case etaSeconds = "eta_seconds"
            case pausedReason = "paused_reason"
        }

        /// Items with an outcome (anything but pending).
        var done: Int { total - (counts[BatchItemOutcome.pending.rawValue] ?? 0) }
    }

    static func decode(_ data: Data) throws -> View {
        do {
            return try JSONDecoder().decode(View.self, from: data)
        } catch {
            throw operationFailed("the gateway's answer is not a batch: \(error)")
        }
    }

    /// Labelled lines: id, status, rate, the counts of every outcome and delivery status, the ETA.
    static func lines(_ batch: View) -> String {
        func line(_ label: String, _ value: String) -> String {
            label + String(repeating: " ", count: max(2, 23 - label.count)) + value
        }
        var lines = [
            line("batch", batch.id), line("status", batch.status), line("rate", "\(batch.rate)/s"),
            line("items", "\(batch.total)"),
        ]
        if let reason = batch.pausedReason { lines.insert(line("paused because", reason), at: 2) }
        for outcome in BatchItemOutcome.allCases {
            lines.append(line(outcome.rawValue, "\(batch.counts[outcome.rawValue] ?? 0)"))
        }
        for status in ["queued", "sending", "retrying", "sent", "failed"] {
            lines.append(line("deliveries " + status, "\(batch.deliveries[status] ?? 0)"))
        }
        if let eta = batch.etaSeconds { lines.append(line("eta", "\(eta) s")) }
        return lines.joined(separator: "\n")
    }

    /// Asks for the batch every half second until it is neither ingesting nor running, with a
    /// progress line (done/total, rate, ETA) on stderr when it is a terminal; answers the last state.
    static func follow(_ first: View, data: Data, api: GatewayClient) async throws -> (View, Data) {
        var batch = first
        var data = data
        var progress = ProgressLine("batch \(first.id)", enabled: Terminal.stderrIsTTY)
        let started = ContinuousClock.now
        let doneAtStart = first.done
        while batch.status == "running" || batch.status == "ingesting" {
            try await Task.sleep(for: .milliseconds(500))
            data = try await api.send(.GET, "/v1/recovery-batches/\(batch.id)").success()
            batch = try decode(data)
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            let rate = seconds > 0 ? Double(batch.done - doneAtStart) / seconds : 0
            let eta = batch.etaSeconds.map { ", eta \($0) s" } ?? ""
            progress.update(
                ProgressLine.fraction(Int64(batch.done), of: Int64(batch.total)) + String(format: ", %.0f/s", rate)
                    + eta
            )
        }
        progress.finish()
        return (batch, data)
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
        /// The problem that cut the run short after the answer had begun.
        let error: Failure?
    }

    private struct Failure: Decodable {
        let code: String
        let detail: String
        let status: Int
    }

    private struct Item: Decodable {
        let position: Int
        let outcome: String
        let reason: String?
    }

    init(_ data: Data) throws {
        let report = try JSONDecoder().decode(Report.self, from: data)
        if let error = report.error {
            throw operationFailed(
                "the dry run stopped after \(report.total) items: HTTP \(error.status) \(error.code): \(error.detail)"
            )
        }
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

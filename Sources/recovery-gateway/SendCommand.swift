import ArgumentParser
import Domain
import Foundation
import GatewayAPI
import JSONValue
import NIOHTTP1
import Templates
import UUIDText

/// `recovery-gateway send`: asks a running gateway to send one recovery email (`POST /v1/recovery-emails`).
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Ask a running gateway to send one recovery email.",
        discussion: """
            Prints the idempotency key first: run the same command with --idempotency-key KEY to retry \
            safely (the gateway answers a retry with its first answer again and sends nothing twice). \
            Exit 1 when the gateway refuses or fails (or, with --wait, when the delivery failed); \
            exit 2 when it refuses a field of the request (the problem's field is named).
            """
    )

    @Option(help: ArgumentHelp("The Kratos identity to recover (a UUID).", valueName: "id"))
    var identity: String?

    @Option(
        help: ArgumentHelp(
            "Find the identity by this login email address instead (a credentials identifier).",
            valueName: "address"
        )
    )
    var email: String?

    @Option(help: ArgumentHelp("link or code (default: the gateway's delivery.default_method).", valueName: "method"))
    var method: RecoveryMethod?

    @Option(help: ArgumentHelp("The template name (default: the method's own).", valueName: "name"))
    var template: String?

    @Option(help: ArgumentHelp("The BCP 47 locale, e.g. de-CH (falls back to de, then the default).", valueName: "tag"))
    var locale: String?

    @Option(
        help: ArgumentHelp(
            "Send to this recovery address of the identity (another one needs the any-recipient scope).",
            valueName: "address"
        )
    )
    var recipient: String?

    @Option(
        help: ArgumentHelp(
            "How long the link or code stays valid, \(LinkLifetime.acceptedRange), e.g. 1h or 90m.",
            valueName: "duration"
        )
    )
    var expiresIn: String?

    @Option(help: ArgumentHelp("Why the email is sent; kept in the audit log.", valueName: "text"))
    var reason: String?

    @Option(
        help: ArgumentHelp(
            "A JSON object (at most 8 KiB) the templates can print as TransientPayload, e.g. '{\"ticket\": 4711}'.",
            valueName: "json"
        )
    )
    var transientPayload: String?

    @Option(help: ArgumentHelp("The Idempotency-Key to send (default: a new random one, printed).", valueName: "key"))
    var idempotencyKey: String?

    /// A bare `--wait` (last, or followed by another option) waits the gateway's maximum.
    @Option(
        defaultAsFlag: 30,
        parsing: .next,
        help: ArgumentHelp(
            "Wait up to this many seconds (1-30; --wait alone: 30) for the final state, and show it.",
            valueName: "seconds"
        )
    )
    var wait: Int?

    @Flag(help: "Print the gateway's JSON answer instead of the summary.")
    var json = false

    @OptionGroup var server: ServerOptions

    func validate() throws {
        switch (identity, email) {
        case (nil, nil): throw ValidationError("give --identity ID or --email ADDRESS")
        case (.some, .some): throw ValidationError("give --identity or --email, not both")
        default: break
        }
        if let identity, UUID(text: identity) == nil {
            throw ValidationError("--identity must be a UUID such as a251ebc2-880c-4f76-a8f3-38e6940eab0e")
        }
        if let wait, !(1...30).contains(wait) { throw ValidationError("--wait must be 1 to 30 seconds") }
        if let idempotencyKey, !IdempotencyKey.isValid(idempotencyKey) {
            throw ValidationError("--idempotency-key must be \(IdempotencyKey.rule)")
        }
        _ = try payload
    }

    /// `--transient-payload` parsed; the gateway checks its size.
    var payload: JSONValue? {
        get throws {
            guard let transientPayload else { return nil }
            let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(transientPayload.utf8))
            guard case .object(let object)? = parsed else {
                throw ValidationError(#"--transient-payload must be a JSON object such as {"ticket": 4711}"#)
            }
            return .object(object)
        }
    }

    /// The request body: only the fields given.
    var body: JSONValue {
        get throws {
            let fields: [(String, String?)] = [
                ("identity_id", identity), ("email", email), ("method", method?.rawValue), ("template", template),
                ("locale", locale), ("recipient", recipient), ("expires_in", expiresIn), ("reason", reason),
            ]
            var object = Dictionary(
                uniqueKeysWithValues: fields.compactMap { key, value in value.map { (key, JSONValue.string($0)) } }
            )
            object["transient_payload"] = try payload
            return .object(object)
        }
    }

    func run() async throws {
        let api = try server.client()
        let key = idempotencyKey ?? "cli-" + UUID().lowercasedString
        let retry = " (idempotency key \(key): retry with --idempotency-key \(key))"
        var headers = [("Idempotency-Key", key)]
        if let wait { headers.append(("Prefer", "wait=\(wait)")) }
        let answer = try await api.send(
            .POST,
            "/v1/recovery-emails",
            headers: headers,
            body: try JSONEncoder().encode(try body),
            timeout: .seconds(15 + (wait ?? 0)),
            hint: retry
        )
        // A refused field will be refused again: no point in retrying those with the same key.
        let problemHint = (answer.status >= 500 || answer.status == 429) ? retry : ""
        let data = try answer.success(hint: problemHint)
        let delivery = try DeliveryText.decode(data)
        if json {
            FileHandle.standardOutput.write(data)
            print()
        } else {
            print("idempotency key  \(key)")
            if answer.headers.first(name: "Idempotent-Replayed") == "true" {
                print("replayed         yes: the gateway had this key already and sent nothing new")
            }
            print(DeliveryText.details(delivery))
        }
        if wait != nil && delivery.status == "failed" {
            throw operationFailed("delivery \(delivery.id) failed: \(delivery.failure ?? "unknown")")
        }
    }
}

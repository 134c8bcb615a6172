import Audit
import CourierInbox
import Dispatch
import Domain
import Foundation
import GatewayAPI
import GatewayConfiguration
import JSONValue
import NIOCore
import RFC3339
import UUIDText

@testable import Kratos
@testable import Mail
@testable import Server
@testable import Templates

/// A parser that reads input from outside the gateway, as a libFuzzer target: `run` hands it one
/// input the way the gateway would, and traps where the parser broke a promise of its own (the
/// fuzzer's crashes, sanitizer reports, timeouts and out-of-memory are the other findings).
enum FuzzTarget: String, CaseIterable, Sendable {
    /// A `POST /v1/recovery-emails` body: the JSON parser, then the request's checks.
    case requestJSON = "request-json"
    /// A batch's `application/x-ndjson` body, in chunks whose size the first byte picks.
    case ndjson
    /// A document Kratos's HTTP courier posts to `/v1/courier/messages`.
    case courierDocument = "courier-document"
    /// An answer of Kratos's admin API: an identity (or a list), a recovery link's expiry, an error body.
    case kratosAnswer = "kratos-answer"
    /// The lines an SMTP server answers (`>` starts a line the client sent), as libcurl hands them over.
    case smtpReply = "smtp-reply"
    /// Text for a message's header fields: checked, then encoded and folded.
    case headerText = "header-text"
    /// An email address (the request's `email` and `recipient`, the courier's `recipient`).
    case emailAddress = "email-address"
    /// A Go template that `templates import` converts to Mustache.
    case goTemplate = "go-template"
    /// The YAML configuration file.
    case configuration
    /// An NDJSON audit export that `audit verify --file` checks offline.
    case auditExport = "audit-export"
    /// `X-Forwarded-For` values (one per line) from a trusted proxy, and an address range as
    /// `server.trusted_proxies` lists it (the first line).
    case forwardedFor = "forwarded-for"
    /// An id as a request, a path or a query gives it (`identity_id`, a delivery's or a batch's id).
    case uuidText = "uuid-text"

    func run(_ bytes: [UInt8]) {
        switch self {
        case .requestJSON:
            guard let json = try? JSONValue(parsing: bytes) else { return }
            _ = try? RecoveryEmailRequest(json: json)
        case .ndjson:
            ndjson(bytes)
        case .courierDocument:
            _ = try? KratosCourierMessage(json: Data(bytes))
        case .kratosAnswer:
            kratosAnswer(bytes)
        case .smtpReply:
            smtpReply(String(decoding: bytes, as: UTF8.self))
        case .headerText:
            headerText(String(decoding: bytes, as: UTF8.self))
        case .emailAddress:
            emailAddress(String(decoding: bytes, as: UTF8.self))
        case .goTemplate:
            goTemplate(String(decoding: bytes, as: UTF8.self))
        case .configuration:
            _ = try? ConfigurationLoader.load(yaml: String(decoding: bytes, as: UTF8.self), source: "fuzz")
        case .auditExport:
            _ = try? AuditExportCheck.verify(ndjson: Data(bytes), publicKeys: [Self.checkpointKey])
        case .forwardedFor:
            forwardedFor(String(decoding: bytes, as: UTF8.self))
        case .uuidText:
            uuidText(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// A fixed key for the checkpoints of `audit-export` (nothing the fuzzer makes is signed with it).
    private static let checkpointKey = AuditSigningKey(seed: Array(repeating: 7, count: 32)).publicKey

    /// Every line of the body becomes one item, numbered by its line, whatever the chunking.
    private func ndjson(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let body = bytes.dropFirst()
        let size = Int(first % 64) + 1
        let chunks = stride(from: body.startIndex, to: body.endIndex, by: size).map { start in
            ByteBuffer(bytes: body[start..<min(start + size, body.endIndex)])
        }
        let stream = AsyncStream<ByteBuffer> { continuation in
            for chunk in chunks { continuation.yield(chunk) }
            continuation.finish()
        }
        let done = DispatchSemaphore(value: 0)
        Task {
            defer { done.signal() }
            var positions: [Int] = []
            var iterator = NDJSONItems(base: stream).makeAsyncIterator()
            while let input = try await iterator.next() { positions.append(input.position) }
            let lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
            precondition(
                positions == positions.sorted() && (positions.last ?? 0) <= lines,
                "\(positions), \(lines) lines"
            )
        }
        done.wait()
    }

    private func kratosAnswer(_ bytes: [UInt8]) {
        _ = KratosErrorResponse.kratosReason(ByteBuffer(bytes: bytes))
        _ = KratosErrorResponse.parseRetryAfter(String(decoding: bytes.prefix(64), as: UTF8.self))
        guard let json = try? JSONValue(parsing: bytes) else { return }
        if case .array(let items) = json {
            for item in items { _ = try? Identity(json: item) }
        } else {
            _ = try? Identity(json: json)
        }
        if let text = json["expires_at"]?.stringValue { _ = RFC3339.parse(text) }
    }

    /// The reply kept for errors and logs is printable ASCII, at most 512 characters.
    private func smtpReply(_ text: String) {
        let state = TransferState(message: [])
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var octets = Array(line.utf8)
            let sent = octets.first == UInt8(ascii: ">")
            if sent { octets.removeFirst() }
            octets.withUnsafeBufferPointer { sent ? state.commandSent($0) : state.replyReceived($0) }
        }
        if let reply = state.lastReply {
            precondition(reply.utf8.count <= 512 && reply.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, reply)
        }
    }

    /// Text that passes the check is encoded into header lines of printable ASCII with no bare
    /// line break: no input breaks out of its header.
    private func headerText(_ text: String) {
        guard (try? HeaderText.check(text, field: "fuzz")) != nil else { return }
        for header in [
            HeaderText.unstructured(name: "Subject", value: text),
            "To: " + HeaderText.phrase(text, firstLineUsed: 4),
        ] {
            let lines = header.components(separatedBy: "\r\n")
            for (index, line) in lines.enumerated() {
                precondition(line.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }, header)
                precondition(index == 0 || line.first == " " || line.first == "\t", header)
            }
        }
    }

    /// An accepted address prints as text that is accepted again as the same address; the one-pass
    /// check of plain ASCII addresses accepts only what the full check accepts, as the same address.
    private func emailAddress(_ text: String) {
        if let plain = EmailAddress.plainASCII(text) {
            precondition((try? EmailAddress(checkingFully: text)) == plain, text)
        }
        guard let address = try? EmailAddress(text) else { return }
        precondition((try? EmailAddress(address.description)) == address, address.description)
        _ = try? Mailbox(displayName: text, address: address)
    }

    /// An id that is read is one Foundation's parser reads the same (it takes more, never less), and
    /// its text is the input in lower case, which reads back the same.
    private func uuidText(_ text: String) {
        guard let id = UUID(text: text) else { return }
        precondition(UUID(uuidString: text) == id, text)
        precondition(id.lowercasedString == text.lowercased() && UUID(text: id.lowercasedString) == id, text)
    }

    /// The client is the proxy itself or one of the addresses forwarded, written as `inet_ntop`
    /// writes it; a range that parses writes itself as a range that parses to the same.
    private func forwardedFor(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let range = AddressRange(lines[0]) {
            precondition(AddressRange(range.description) == range, range.description)
        }
        let client = Self.clientAddress.client(peer: "10.0.0.1", forwardedFor: lines)
        guard client != "10.0.0.1" else { return }
        let bytes = AddressRange.bytes(of: client)
        precondition(bytes.map(AddressRange.text(of:)) == client, client)
        let forwarded = lines.flatMap { $0.split(separator: ",") }.map {
            AddressRange.bytes(of: $0.trimmingCharacters(in: .whitespaces))
        }
        precondition(forwarded.contains(bytes), client)
    }

    private static let clientAddress = ClientAddressMiddleware(trusted: [
        AddressRange("10.0.0.0/8")!, AddressRange("fd00::/8")!,
    ])

    /// The converter either refuses the template or gives Mustache that parses; its own
    /// "internal error" (Mustache that does not parse) is a bug.
    private func goTemplate(_ text: String) {
        for html in [false, true] {
            do {
                _ = try GoToMustache.convert(text, file: "fuzz.gotmpl", html: html)
            } catch {
                precondition(!error.message.hasPrefix("internal error"), error.message)
            }
        }
    }
}

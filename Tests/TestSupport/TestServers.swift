// Real servers and processes for the tests: aiosmtpd, smtp-sink, the strict mail parser.
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The repository's root, found from this file's path.
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh temporary directory for one test, removed (with what is in it) when the test process
/// exits, if the test has not removed it itself.
public func makeTemporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rg-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    madeDirectories.withLock { made in
        if made.isEmpty { atexit { removeMadeDirectories() } }
        made.append(directory.path)
    }
    return directory
}

/// The paths `makeTemporaryDirectory()` made; the first one made registers their removal.
private let madeDirectories = Mutex<[String]>([])

private func removeMadeDirectories() {
    for path in madeDirectories.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
}

/// A loopback TCP port nobody listens on right now.
public func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
        }
    }
    try #require(bound, "could not bind a loopback port")
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on the loopback port.
public func isListening(port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass.
public func waitUntil(seconds: Double = 10, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// scripts/smtp_server.py: aiosmtpd with optional STARTTLS or implicit TLS and AUTH,
/// writing every message it accepts to a folder, byte for byte.
public struct AiosmtpdServer: Sendable {
    public enum TLS: String { case none, starttls, implicit }

    public let directory: URL
    public let port: Int
    public let process: ChildProcess

    public var maildir: URL { directory.appendingPathComponent("mail") }
    /// The self-signed certificate the server made (with `tls` other than `.none`).
    public var certificate: String { directory.appendingPathComponent("cert.pem").path }

    public static func start(
        tls: TLS = .none,
        auth: String? = nil,
        mechanism: String? = nil,
        dropSecondMail: Bool = false,
        holdFirst: Double? = nil
    ) async throws -> AiosmtpdServer {
        let directory = try makeTemporaryDirectory()
        let ready = directory.appendingPathComponent("port")
        var arguments = [
            repositoryRoot.appendingPathComponent("scripts/smtp_server.py").path,
            "--maildir", directory.appendingPathComponent("mail").path,
            "--ready-file", ready.path, "--tls", tls.rawValue,
        ]
        if let auth { arguments += ["--auth", auth] }
        if let mechanism { arguments += ["--mechanism", mechanism] }
        if dropSecondMail { arguments.append("--drop-second-mail") }
        if let holdFirst { arguments += ["--hold-first", "\(holdFirst)"] }
        let process = try ChildProcess(
            "/usr/bin/env",
            ["python3"] + arguments,
            log: directory.appendingPathComponent("server.log")
        )
        let started = try await waitUntil { FileManager.default.fileExists(atPath: ready.path) }
        let log = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        try #require(started, "aiosmtpd did not start: \(log)")
        let port = try #require(Int(String(contentsOf: ready, encoding: .utf8)))
        return AiosmtpdServer(directory: directory, port: port, process: process)
    }

    /// The messages received so far, in order: raw octets and the envelope.
    public func messages() throws -> [(raw: Data, envelope: [String: Any])] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: maildir.path)) ?? []
        return try files.filter { $0.hasSuffix(".json") }.sorted().map { name in
            let base = maildir.appendingPathComponent(String(name.dropLast(5)))
            let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathExtension("json")))
            return (try Data(contentsOf: base.appendingPathExtension("eml")), envelope as? [String: Any] ?? [:])
        }
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Postfix's smtp-sink on a loopback port, with its own failure-injection options; each message
/// it accepts is dumped to a file so a test can count them.
public struct SMTPSink: Sendable {
    public let directory: URL
    public let port: Int
    public let process: ChildProcess

    public static func start(options: [String] = [], port: Int? = nil, dump: Bool = true) async throws -> SMTPSink {
        let directory = try makeTemporaryDirectory()
        let port = try port ?? freeLoopbackPort()
        var arguments = options
        if getuid() == 0 {
            // smtp-sink refuses to run as root without dropping privileges; the dumps must stay writable.
            _ = chmod(directory.path, 0o777)
            arguments += ["-u", "nobody"]
        }
        if dump { arguments += ["-d", directory.appendingPathComponent("msg.").path] }
        arguments += ["-h", "smtp-sink.test", "127.0.0.1:\(port)", "64"]
        let process = try ChildProcess("/usr/sbin/smtp-sink", arguments)
        let started = try await waitUntil { isListening(port: port) }
        try #require(started, "smtp-sink did not start on port \(port)")
        return SMTPSink(directory: directory, port: port, process: process)
    }

    /// How many messages the sink has taken.
    public var messageCount: Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix("msg.") }
            .count
    }

    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// What Python's `email` package makes of a message under `policy=email.policy.strict`.
public struct ParsedMessage: Decodable {
    public let headers: [[String]]
    public let contentType: String
    public let parts: [String]
    public let text: String?
    public let html: String?
    public let defects: [String]

    enum CodingKeys: String, CodingKey {
        case headers, parts, text, html, defects
        case contentType = "content_type"
    }

    public static func parse(_ raw: Data) async throws -> ParsedMessage {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("message.eml")
        try raw.write(to: file)
        let script = repositoryRoot.appendingPathComponent("Tests/TestSupport/parse_message.py").path
        let run = try await runCommand("/usr/bin/env", ["python3", script, file.path])
        try #require(run.status == 0, "the strict parser refused the message")
        return try JSONDecoder().decode(ParsedMessage.self, from: run.stdout)
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.first?.lowercased() == name.lowercased() }?.last
    }
}

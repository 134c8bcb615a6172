import Foundation
import TestSupport
import Testing

@testable import Mail

/// Sends one message with a fresh transport and returns the result.
func deliver(
    _ message: EmailMessage,
    url: String,
    caFile: String? = nil,
    timeout: Duration = .seconds(10)
) async throws -> Result<SMTPReceipt, SMTPError> {
    let transport = try SMTPTransport(
        configuration: SMTPConfiguration(url: url, caFile: caFile, timeout: timeout),
        connections: 1
    )
    defer { Task { await transport.shutdown() } }
    do {
        return .success(try await transport.send(message))
    } catch {
        return .failure(error)
    }
}

/// The SMTP error a failed delivery produced, or an issue recorded if it succeeded.
func expectFailure(
    _ result: Result<SMTPReceipt, SMTPError>,
    sourceLocation: SourceLocation = #_sourceLocation
) -> SMTPError? {
    switch result {
    case .success(let receipt):
        Issue.record("expected a failure, the server said \(receipt.reply)", sourceLocation: sourceLocation)
        return nil
    case .failure(let error):
        return error
    }
}

@Suite("SMTP delivery to aiosmtpd (STARTTLS, implicit TLS, AUTH)", .serialized)
struct AiosmtpdDeliveryTests {
    static let password = "pä:ss w@rd/%"
    static var encodedPassword: String {
        password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    @Test(arguments: ["PLAIN", "LOGIN"])
    func startTLSWithAuthArrivesByteForByte(mechanism: String) async throws {
        let server = try await AiosmtpdServer.start(tls: .starttls, auth: "bob:\(Self.password)", mechanism: mechanism)
        defer { server.stop() }
        let message = try sampleMessage()
        let receipt = try await deliver(
            message,
            url: "smtp://bob:\(Self.encodedPassword)@127.0.0.1:\(server.port)/",
            caFile: server.certificate
        ).get()
        #expect(receipt.code == 250)
        #expect(receipt.reply == "250 2.0.0 Ok: queued as TEST000001")

        let received = try server.messages()
        try #require(received.count == 1)
        // Byte for byte what was built: libcurl dot-stuffed the ".this line" and the server undid it.
        #expect(received[0].raw == Data(message.rendered()))
        #expect(received[0].envelope["mail_from"] as? String == "no-reply@example.com")
        #expect(received[0].envelope["rcpt_tos"] as? [String] == ["user+tag@example.com"])
        #expect(received[0].envelope["tls"] as? Bool == true)
        #expect(received[0].envelope["authenticated"] as? Bool == true)

        let parsed = try await ParsedMessage.parse(received[0].raw)
        #expect(parsed.defects.isEmpty)
        #expect(parsed.contentType == "multipart/alternative")
        #expect(parsed.parts == ["multipart/alternative", "text/plain", "text/html"])
        #expect(parsed.header("Subject") == message.subject)
        #expect(parsed.header("From") == "Exämple Support <no-reply@example.com>")
        #expect(parsed.header("To") == "user+tag@example.com")
        #expect(parsed.header("Message-ID") == "<0c5a1b2e-test@example.com>")
        #expect(parsed.header("Auto-Submitted") == "auto-generated")
        // Bodies go out with CRLF line ends, each ending in one, and decode back to exactly that.
        #expect(parsed.text == message.text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(parsed.text?.contains("\r\n.this line starts with a dot\r\n..and this with two\r\n") == true)
        #expect(parsed.html == (message.html ?? "") + "\r\n")
    }

    @Test func implicitTLS() async throws {
        let server = try await AiosmtpdServer.start(tls: .implicit, auth: "bob:\(Self.password)")
        defer { server.stop() }
        let message = try sampleMessage(html: nil)
        let result = try await deliver(
            message,
            url: "smtps://bob:\(Self.encodedPassword)@localhost:\(server.port)/",
            caFile: server.certificate
        )
        #expect(try result.get().code == 250)
        let received = try server.messages()
        try #require(received.count == 1)
        #expect(received[0].raw == Data(message.rendered()))
        #expect(received[0].envelope["tls"] as? Bool == true)
        let parsed = try await ParsedMessage.parse(received[0].raw)
        #expect(parsed.contentType == "text/plain")
        #expect(parsed.header("Subject") == message.subject)
    }

    @Test func wrongPasswordIsAConfigurationError() async throws {
        let server = try await AiosmtpdServer.start(tls: .starttls, auth: "bob:\(Self.password)")
        defer { server.stop() }
        let result = try await deliver(
            try sampleMessage(),
            url: "smtp://bob:WrongHunter2@127.0.0.1:\(server.port)/",
            caFile: server.certificate
        )
        let error = try #require(expectFailure(result))
        #expect(error.kind == .configuration)
        #expect(error.stage == .auth)
        #expect(error.code == 535)
        #expect(!error.description.contains("WrongHunter2"))
        #expect(try server.messages().isEmpty)
    }

    @Test func untrustedCertificateIsAConfigurationError() async throws {
        let server = try await AiosmtpdServer.start(tls: .starttls)
        defer { server.stop() }
        // Verified against the system's CAs, which do not know the test's self-signed certificate.
        let result = try await deliver(try sampleMessage(), url: "smtp://127.0.0.1:\(server.port)/")
        let error = try #require(expectFailure(result))
        #expect(error.kind == .configuration)
        #expect(error.stage == .startTLS)
        #expect(try server.messages().isEmpty)

        let skipped = try await deliver(
            try sampleMessage(),
            url: "smtp://127.0.0.1:\(server.port)/?skip_ssl_verify=true"
        )
        #expect(try skipped.get().code == 250)
    }

    @Test func certificateNameIsChecked() async throws {
        let server = try await AiosmtpdServer.start(tls: .implicit)
        defer { server.stop() }
        // The certificate is for localhost and 127.0.0.1, not for mail.example.com.
        let wrongName = try await deliver(
            try sampleMessage(),
            url: "smtps://127.0.0.1:\(server.port)/?server_name=mail.example.com",
            caFile: server.certificate
        )
        #expect(expectFailure(wrongName)?.kind == .configuration)
        let rightName = try await deliver(
            try sampleMessage(),
            url: "smtps://127.0.0.1:\(server.port)/?server_name=localhost",
            caFile: server.certificate
        )
        #expect(try rightName.get().code == 250)
    }

    @Test func missingSTARTTLSIsAConfigurationError() async throws {
        let server = try await AiosmtpdServer.start(tls: .none)
        defer { server.stop() }
        let result = try await deliver(try sampleMessage(), url: "smtp://127.0.0.1:\(server.port)/")
        let error = try #require(expectFailure(result))
        #expect(error.kind == .configuration)
        #expect(try server.messages().isEmpty)
    }

    @Test func droppedPooledConnectionIsRedialledWithoutLosingTheMessage() async throws {
        let server = try await AiosmtpdServer.start(dropSecondMail: true)
        defer { server.stop() }
        let transport = try SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)/?disable_starttls=true"),
            connections: 1
        )
        defer { Task { await transport.shutdown() } }
        // The server drops the kept-open connection when the second MAIL arrives on it.
        for index in 1...3 {
            let receipt = try await transport.send(try sampleMessage(subject: "message \(index)"))
            #expect(receipt.reply == "250 2.0.0 Ok: queued as TEST00000\(index)")
        }
        var subjects: [String?] = []
        for message in try server.messages() {
            subjects.append(try await ParsedMessage.parse(message.raw).header("Subject"))
        }
        #expect(subjects == ["message 1", "message 2", "message 3"])
    }

    @Test func aServerSlowToAcceptOneMessageDoesNotHoldUpTheOtherConnections() async throws {
        // The server holds its answer to the final "." of the first message it gets. libcurl waits
        // for that answer with a blocking poll, so a thread that drove other connections as well
        // would stall them until the answer came.
        let server = try await AiosmtpdServer.start(holdFirst: 120)
        defer { server.stop() }
        let transport = try SMTPTransport(
            configuration: SMTPConfiguration(
                url: "smtp://127.0.0.1:\(server.port)/?disable_starttls=true",
                timeout: .seconds(90)
            ),
            connections: 4
        )
        let message = try sampleMessage()
        let sends = (0..<4).map { _ in Task { try? await transport.send(message) } }
        // The other three arrive and are answered while the first is held (a stalled connection
        // would wait 90 s). The server stores a message before it answers, so the transport may
        // count it outstanding for a moment after it is stored: wait for both.
        #expect(
            try await waitUntil(seconds: 45) { try server.messages().count == 3 && transport.outstanding == 1 }
        )
        #expect(try server.messages().count == 3)
        // Ending the server ends the held message's wait (it fails), and with it the transport.
        server.stop()
        for send in sends { _ = await send.value }
        await transport.shutdown()
    }

    @Test func shutdownLetsQueuedMessagesFinishThenRefusesNewOnes() async throws {
        // The server holds its answer to the first message, so the others queue up behind it.
        let server = try await AiosmtpdServer.start(holdFirst: 0.5)
        defer { server.stop() }
        let transport = try SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)/?disable_starttls=true"),
            connections: 1
        )
        let message = try sampleMessage()
        let sends = Task {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<50 { group.addTask { (try? await transport.send(message)) != nil } }
                var delivered = 0
                for await ok in group where ok { delivered += 1 }
                return delivered
            }
        }
        // All 50 are queued behind the one connection when the shutdown begins.
        #expect(try await waitUntil { transport.outstanding == 50 })
        await transport.shutdown()
        #expect(await sends.value == 50)
        #expect(try server.messages().count == 50)
        do {
            _ = try await transport.send(message)
            Issue.record("a send after shutdown must fail")
        } catch {
            #expect(error.kind == .transient)
        }
    }
}

@Suite("SMTP delivery to postfix smtp-sink (reuse, failure injection)", .serialized)
struct SMTPSinkDeliveryTests {
    @Test func connectionsAreReusedAndEveryMessageArrives() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let transport = try SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)/?disable_starttls=true"),
            connections: 4
        )
        defer { Task { await transport.shutdown() } }
        let message = try sampleMessage()
        let sent = try await withThrowingTaskGroup(of: SMTPReceipt.self) { group in
            for _ in 0..<200 { group.addTask { try await transport.send(message) } }
            return try await group.reduce(into: 0) { count, receipt in if receipt.code == 250 { count += 1 } }
        }
        #expect(sent == 200)
        #expect(try await waitUntil { sink.messageCount == 200 })
    }

    /// smtp-sink's injection options, one SMTP command each, and the class each must give.
    @Test(arguments: [
        (["-r", "MAIL"], SMTPError.Kind.transient, SMTPError.Stage.mailFrom, Optional(450)),
        (["-r", "RCPT"], .transient, .rcptTo, 450),
        (["-r", "DATA"], .transient, .data, 450),
        (["-r", "."], .transient, .endOfData, 450),
        (["-f", "MAIL"], .permanent, .mailFrom, 500),
        (["-f", "RCPT"], .permanent, .rcptTo, 500),
        (["-f", "DATA"], .permanent, .data, 500),
        (["-f", "."], .permanent, .endOfData, 500),
        (["-f", "EHLO,HELO"], .configuration, .ehlo, 500),
        (["-Q", "MAIL"], .transient, .mailFrom, 421),
        (["-Q", "RCPT"], .transient, .rcptTo, 421),
        (["-q", "MAIL"], .transient, .mailFrom, nil),
        (["-q", "DATA"], .transient, .data, nil),
        (["-q", "."], .transient, .endOfData, nil),
    ])
    func injectedFailuresGetTheirClass(
        options: [String],
        kind: SMTPError.Kind,
        stage: SMTPError.Stage,
        code: Int?
    ) async throws {
        let sink = try await SMTPSink.start(options: options)
        defer { sink.stop() }
        let result = try await deliver(try sampleMessage(), url: "smtp://127.0.0.1:\(sink.port)/?disable_starttls=true")
        let error = try #require(expectFailure(result))
        #expect(error.kind == kind)
        #expect(error.stage == stage)
        #expect(error.code == code)
    }

    @Test func aSlowServerTimesOutAsTransient() async throws {
        // The sink greets after 10 s: a client that waited for it takes that long.
        let sink = try await SMTPSink.start(options: ["-w", "10"])
        defer { sink.stop() }
        let started = ContinuousClock.now
        let result = try await deliver(
            try sampleMessage(),
            url: "smtp://127.0.0.1:\(sink.port)/?disable_starttls=true",
            timeout: .seconds(1)
        )
        let error = try #require(expectFailure(result))
        #expect(error.kind == .transient)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func refusedConnectionIsTransient() async throws {
        let port = try freeLoopbackPort()
        let result = try await deliver(try sampleMessage(), url: "smtp://127.0.0.1:\(port)/?disable_starttls=true")
        let error = try #require(expectFailure(result))
        #expect(error.kind == .transient)
        #expect(error.stage == .connect)
        #expect(error.code == nil)
    }

    @Test func aRestartedServerIsReachedAgainOnTheSameHandle() async throws {
        let first = try await SMTPSink.start()
        let port = first.port
        let transport = try SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(port)/?disable_starttls=true"),
            connections: 1
        )
        defer { Task { await transport.shutdown() } }
        #expect(try await transport.send(try sampleMessage()).code == 250)
        first.stop()
        let message = try sampleMessage()
        do {
            _ = try await transport.send(message)
            Issue.record("a send with the server down must fail")
        } catch {
            #expect(error.kind == .transient)
        }
        let second = try await SMTPSink.start(port: port)
        defer { second.stop() }
        #expect(try await transport.send(try sampleMessage()).code == 250)
        #expect(try await waitUntil { second.messageCount == 1 })
    }
}

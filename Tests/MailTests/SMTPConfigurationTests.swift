import Foundation
import TestSupport
import Testing

@testable import Mail

@Suite("SMTP URLs in Kratos's courier syntax")
struct SMTPConfigurationTests {
    @Test func startTLSIsTheDefaultForSMTP() throws {
        let configuration = try SMTPConfiguration(url: "smtp://user:pa%3Ass%40word@mail.example.com:587/")
        #expect(configuration.security == .startTLS)
        #expect(configuration.host == "mail.example.com")
        #expect(configuration.port == 587)
        #expect(configuration.username == "user")
        #expect(configuration.password == "pa:ss@word")
        #expect(configuration.verifyCertificate)
    }

    @Test func kratosQueryParameters() throws {
        let plain = try SMTPConfiguration(url: "smtp://127.0.0.1:1025/?disable_starttls=true")
        #expect(plain.security == .none)
        let unverified = try SMTPConfiguration(url: "smtp://host/?skip_ssl_verify=1&server_name=mx.example.com")
        #expect(!unverified.verifyCertificate)
        #expect(unverified.serverName == "mx.example.com")
        #expect(unverified.port == 25)
        let implicit = try SMTPConfiguration(url: "smtps://u%20ser:p@[::1]")
        #expect(implicit.security == .implicitTLS)
        #expect(implicit.host == "::1")
        #expect(implicit.port == 465)
        #expect(implicit.username == "u ser")
    }

    @Test(arguments: [
        ("http://host/", "scheme"),
        ("host:25", "scheme"),
        ("smtp://:25/", "host"),
        ("smtp://host:0/", "port"),
        ("smtp://host:99999/", "port"),
        ("smtp://host:abc/", "port"),
        ("smtp://host/extra", "path"),
        ("smtp://host/?disable_starttls=yes", "disable_starttls"),
        ("smtp://host/?starttls=false", "query parameter \"starttls\""),
        ("smtps://host/?disable_starttls=true", "disable_starttls"),
        ("smtp://us%zzer:pw@host/", "user"),
        ("smtp://user:p%zzw@host/", "password"),
        ("smtp://:secret@host/", "user"),
        ("smtp://ho st/", "URL"),
        ("smtp://host/\r\n", "URL"),
    ])
    func badURLsNameThePart(url: String, part: String) {
        #expect {
            try SMTPConfiguration(url: url)
        } throws: { error in
            (error as? SMTPConfigurationError)?.part == part
        }
    }

    @Test func thePasswordIsNeverEchoed() throws {
        let secret = "Sup3r-Secret"
        for url in [
            "smtp://user:\(secret)@host:notaport/", "smtp://user:\(secret)@/", "smtp://user:\(secret)@host/?x=1",
        ] {
            do {
                _ = try SMTPConfiguration(url: url)
                Issue.record("\(url.count) should fail")
            } catch {
                #expect(!error.description.contains(secret))
            }
        }
        let configuration = try SMTPConfiguration(url: "smtp://user:\(secret)@host:2525/?skip_ssl_verify=true")
        #expect(configuration.description == "smtp://user:***@host:2525/?skip_ssl_verify=true")
    }

    @Test func passwordFromAFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("smtp-password").path
        try "from-file\n".write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try SMTPConfiguration(url: "smtp://user@host/", passwordFile: file)
        #expect(configuration.password == "from-file")
        #expect(throws: SMTPConfigurationError.self) {
            try SMTPConfiguration(url: "smtp://user:inline@host/", passwordFile: file)
        }
        #expect {
            try SMTPConfiguration(
                url: "smtp://user@host/",
                passwordFile: directory.appendingPathComponent("missing").path
            )
        } throws: { error in
            (error as? SMTPConfigurationError)?.part == "password file"
        }
    }
}

@Suite("Classifying SMTP failures for the retry policy")
struct SMTPFailureClassifierTests {
    @Test(arguments: [
        (7, SMTPError.Stage.connect, Int?.none, SMTPError.Kind.transient),  // refused
        (28, .data, nil, .transient),  // timed out
        (56, .mailFrom, nil, .transient),  // connection dropped
        (8, .greeting, 421, .transient),
        (55, .rcptTo, 450, .transient),
        (55, .rcptTo, 550, .permanent),
        (55, .mailFrom, 553, .permanent),
        (55, .data, 554, .permanent),
        (8, .endOfData, 552, .permanent),
        (55, .mailFrom, 530, .configuration),  // authentication required
        (67, .auth, 535, .configuration),
        (67, .auth, 454, .transient),  // temporary authentication failure
        (8, .greeting, 554, .configuration),
        (60, .startTLS, nil, .configuration),  // certificate not trusted
        (64, .ehlo, nil, .configuration),  // STARTTLS not offered
        (35, .connect, nil, .configuration),
    ])
    func classes(curlCode: Int, stage: SMTPError.Stage, reply: Int?, kind: SMTPError.Kind) {
        let error = SMTPFailureClassifier.classify(
            curlCode: curlCode,
            stage: stage,
            replyCode: reply,
            serverText: reply.map { "\($0) 4.0.0 text" },
            curlText: "curl says"
        )
        #expect(error.kind == kind)
        #expect(error.code == reply)
        #expect(error.stage == stage)
    }

    @Test func redactionRemovesThePassword() {
        let error = SMTPError(
            kind: .configuration,
            stage: .auth,
            code: 535,
            message: "535 bad password hunter2 for user"
        )
        #expect(error.redacting("hunter2").message == "535 bad password *** for user")
    }

    @Test func sanitizeKeepsPrintableASCII() {
        #expect(SMTPFailureClassifier.sanitize("250 ok\u{1B}[31m\r\n") == "250 ok[31m")
        #expect(SMTPFailureClassifier.sanitize(String(repeating: "a", count: 1000)).count == 512)
    }
}

@Suite struct SMTPConfigurationRedactionTests {
    @Test func thePasswordNeverShowsInDumps() throws {
        let configuration = try SMTPConfiguration(url: "smtp://user:Hunter2Secret@host/")
        struct Holder { let smtp: SMTPConfiguration }
        var dumped = ""
        dump(Holder(smtp: configuration), to: &dumped)
        #expect(!dumped.contains("Hunter2Secret"))
        #expect(!"\(Holder(smtp: configuration))".contains("Hunter2Secret"))
    }
}

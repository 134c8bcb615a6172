import Foundation
import Kratos
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesAndFormatsGoDurations() throws {
        let cases: [(String, Int64, String)] = [
            ("1h", 3_600_000_000_000, "1h0m0s"),
            ("90m", 5_400_000_000_000, "1h30m0s"),
            ("1m30s", 90_000_000_000, "1m30s"),
            ("500ms", 500_000_000, "500ms"),
            ("1.5h", 5_400_000_000_000, "1h30m0s"),
            ("2.5s", 2_500_000_000, "2.5s"),
            ("+45s", 45_000_000_000, "45s"),
            ("1h1us", 3_600_000_001_000, "1h0m0.000001s"),
        ]
        for (text, nanoseconds, canonical) in cases {
            let duration = try KratosDuration(parsing: text)
            #expect(duration.nanoseconds == nanoseconds, "\(text)")
            #expect(duration.description == canonical, "\(text)")
            #expect(try KratosDuration(parsing: duration.description) == duration)
        }
    }

    @Test func rejectsMalformedNegativeAndZeroDurations() {
        #expect(throws: KratosDuration.ParseError.empty) { try KratosDuration(parsing: "") }
        for text in ["abc", "1", "1x", "h", "1h-5m", ".s", "not-a-valid-value", "1 h"] {
            #expect(throws: KratosDuration.ParseError.malformed(text)) { try KratosDuration(parsing: text) }
        }
        for text in ["-1h", "0", "0s", "-0.5s"] {
            #expect(throws: KratosDuration.ParseError.notPositive(text)) { try KratosDuration(parsing: text) }
        }
        #expect(throws: KratosDuration.ParseError.tooLarge("9999999h")) { try KratosDuration(parsing: "9999999h") }
        #expect(KratosDuration(.zero) == nil)
        #expect(KratosDuration(.milliseconds(1500))?.description == "1.5s")
    }

    @Test func normalizesAndChecksURLs() throws {
        let configuration = try KratosConfiguration(adminURL: "http://127.0.0.1:4434/", publicURL: "https://a.example/")
        #expect(configuration.adminURL == "http://127.0.0.1:4434")
        #expect(configuration.publicURL == "https://a.example")
        #expect(throws: KratosConfiguration.Error.invalidURL(field: "admin_url", value: "127.0.0.1:4434")) {
            try KratosConfiguration(adminURL: "127.0.0.1:4434")
        }
        #expect(throws: KratosConfiguration.Error.nonPositiveTimeout) {
            try KratosConfiguration(adminURL: "http://x", timeout: .zero)
        }
    }

    @Test func readsTheProjectKeyFromAFileTrimmingTheNewline() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("key").path
        try "ory_pat_abc123\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try KratosConfiguration.readToken(fromFile: file) == "ory_pat_abc123")
        let empty = directory.appendingPathComponent("empty").path
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(throws: KratosConfiguration.Error.emptyTokenFile(path: empty)) {
            try KratosConfiguration.readToken(fromFile: empty)
        }
        #expect(throws: KratosConfiguration.Error.unreadableTokenFile(path: directory.path + "/none")) {
            try KratosConfiguration.readToken(fromFile: directory.path + "/none")
        }
    }
}

@Suite struct ConfigurationRedactionTests {
    @Test func theTokenNeverShowsInDescriptionsOrDumps() throws {
        let configuration = try KratosConfiguration(
            adminURL: "https://x.projects.oryapis.com",
            bearerToken: "ory_pat_SECRET123"
        )
        struct Holder { let configuration: KratosConfiguration }
        var dumped = ""
        dump(Holder(configuration: configuration), to: &dumped)
        for text in [configuration.description, "\(Holder(configuration: configuration))", dumped] {
            #expect(!text.contains("SECRET123"))
        }
        #expect(configuration.description.contains("<redacted>"))
    }
}

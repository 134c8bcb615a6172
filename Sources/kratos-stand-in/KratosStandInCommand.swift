import ArgumentParser
import Foundation
import Hummingbird
import JSONValue
import KratosStandIn

/// `kratos-stand-in`: runs the test double of the Kratos admin API.
@main
struct KratosStandInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kratos-stand-in",
        abstract: "A test double of the Ory Kratos admin API, for tests, benchmarks and demos.",
        discussion: """
            This is a TEST DOUBLE, never a Kratos replacement: it keeps identities in memory, checks \
            no identity schema and its links lead nowhere. It answers GET/POST /admin/identities, \
            GET/DELETE /admin/identities/{id}, POST /admin/recovery/link, POST /admin/recovery/code, \
            GET /health/alive and /health/ready with Kratos's status codes and error bodies.
            Test hooks: POST /stand-in/faults {"path","count","status"|"drop"|"delay_ms","retry_after"}, \
            POST /stand-in/latency {"milliseconds"}, GET /stand-in/issued, POST /stand-in/reset.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 4434

    @Option(help: "JSON array of identities in Kratos's format (default: the embedded set).")
    var identities: String?

    @Option(help: "Base of the links it issues.")
    var publicURL = "http://127.0.0.1:4433"

    @Option(help: "File holding a token every admin call must send as Bearer (as on Ory Network).")
    var tokenFile: String?

    @Flag(help: "Answer codes with a relative recovery_link (/ui/recovery?flow=…) as self-hosted Kratos does.")
    var relativeCodeLinks = false

    func run() async throws {
        var configuration = StandInConfiguration(publicURL: publicURL, relativeCodeLinks: relativeCodeLinks)
        if let identities {
            guard let data = FileManager.default.contents(atPath: identities) else {
                throw ValidationError("cannot read --identities \(identities)")
            }
            guard let list = try? JSONDecoder().decode([JSONValue].self, from: data) else {
                throw ValidationError("--identities \(identities) is not a JSON array of identities")
            }
            configuration.identities = list
        }
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile),
                let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                !token.isEmpty
            else { throw ValidationError("--token-file \(tokenFile) is unreadable or empty") }
            configuration.bearerToken = token
        }
        let standIn: KratosStandIn
        do {
            standIn = try KratosStandIn(configuration: configuration)
        } catch {
            throw ValidationError("\(error)")
        }
        let app = standIn.application(host: host, port: port) { boundPort in
            // Unbuffered, so a parent process reading the port sees it at once.
            let line = "kratos-stand-in listening on http://\(host):\(boundPort) (test double, not Kratos)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        try await app.runService()
    }
}

import Foundation

/// A PostgreSQL cluster of one test's own (scripts/postgres.sh in a temporary directory), for
/// tests that stop and restart the server.
struct PostgresCluster: Sendable {
    let directory: TemporaryDirectory
    let url: String

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/postgres.sh").path

    struct ScriptFailed: Error, CustomStringConvertible {
        let command: String
        let output: String
        var description: String { "scripts/postgres.sh \(command) failed: \(output)" }
    }

    /// Starts a new cluster on a free loopback port.
    static func start() async throws -> PostgresCluster {
        let directory = try TemporaryDirectory()
        let url = try await run("start", directory.path("cluster"))
        return PostgresCluster(directory: directory, url: url.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func stop() async throws { _ = try await Self.run("stop", directory.path("cluster")) }

    /// Starts it again on the same port.
    func startAgain() async throws { _ = try await Self.run("start", directory.path("cluster")) }

    /// Stops it and deletes its files.
    func remove() async {
        try? await stop()
        directory.remove()
    }

    private static func run(_ command: String, _ directory: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [script, command, directory]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            process.terminationHandler = { process in
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                if process.terminationStatus == 0 {
                    continuation.resume(returning: output)
                } else {
                    continuation.resume(throwing: ScriptFailed(command: command, output: output))
                }
            }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

import Foundation
import TestSupport

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

    /// Runs the script with its output in a file: the server it starts inherits the script's
    /// descriptors, so a pipe would never reach end-of-file.
    private static func run(_ command: String, _ directory: String) async throws -> String {
        let output = URL(fileURLWithPath: directory + "-\(command)-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = try ChildProcess("/bin/bash", [script, command, directory], log: output)
        let status = try await onOwnThread { process.wait() }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw ScriptFailed(command: command, output: text) }
        return text
    }
}

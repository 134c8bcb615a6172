import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What one run of the built binary did.
struct BinaryRun {
    let status: Int32
    let stdout: String
    let stderr: String

    /// Whether stderr is exactly one line (the CLI's rule for every error).
    var stderrIsOneLine: Bool { stderr.hasSuffix("\n") && stderr.dropLast().split(separator: "\n").count == 1 }
}

/// Runs the binary with `environment` (nothing inherited but `PATH`, so that no `RECOVERY_GATEWAY_*` of
/// the caller leaks in) in `directory`. With `stderrOnTerminal`, stderr is a pseudo-terminal (stdout stays a pipe).
func run(
    _ arguments: [String],
    environment: [String: String] = [:],
    in directory: URL? = nil,
    stderrOnTerminal: Bool = false
) async throws -> BinaryRun {
    let environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) {
        mine,
        _ in mine
    }
    guard stderrOnTerminal else {
        let run = try await runCommand(gatewayBinary, arguments, environment: environment, directory: directory?.path)
        return BinaryRun(
            status: run.status,
            stdout: String(decoding: run.stdout, as: UTF8.self),
            stderr: String(decoding: run.stderr, as: UTF8.self)
        )
    }
    var main: Int32 = -1
    var secondary: Int32 = -1
    try #require(openpty(&main, &secondary, nil, nil, nil) == 0, "openpty failed")
    let out = Pipe()
    let process = try ChildProcess(
        gatewayBinary,
        arguments,
        environment: environment,
        directory: directory?.path,
        output: out.fileHandleForWriting.fileDescriptor,
        error: secondary
    )
    // The child has its copies: the reads below end when it closes them.
    try out.fileHandleForWriting.close()
    close(secondary)
    // Read both streams while it runs, so that a full pipe never blocks it.
    async let stdout = onOwnThread { out.fileHandleForReading.readDataToEndOfFile() }
    let mainFD = main
    let stderr = try await onOwnThread { readUntilClosed(mainFD) }
    close(mainFD)
    let output = try await stdout
    let status = try await onOwnThread { process.wait() }
    return BinaryRun(
        status: status,
        stdout: String(decoding: output, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self)
    )
}

/// Everything written to a pseudo-terminal until its last writer closes it (read fails with EIO).
private func readUntilClosed(_ descriptor: Int32) -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(descriptor, &buffer, buffer.count)
        if count > 0 {
            data.append(contentsOf: buffer[0..<count])
        } else if count < 0 && errno == EINTR {
            continue
        } else {
            return data
        }
    }
}

/// A loopback URL where nothing listens: connections are refused at once.
func unreachableServer() throws -> String {
    "http://127.0.0.1:\(try freeLoopbackPort())"
}

/// Writes `text` to `name` in `directory`; returns the path.
@discardableResult
func write(_ text: String, to name: String, in directory: URL) throws -> String {
    let file = directory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: file, atomically: true, encoding: .utf8)
    return file.path
}

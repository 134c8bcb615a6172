import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The tests' own process starter (TestSupport's `ChildProcess`), which every test that runs a
/// server, the binary or a script goes through.
@Suite("Child processes of the tests (posix_spawn)")
struct ChildProcessTests {
    /// Foundation's `Process` crashed the test process here: with this many descriptors open, its
    /// listing of `/proc/self/fd` read past `readdir`'s buffer. The child must start and inherit
    /// none of them.
    @Test func startsWithManyDescriptorsOpenAndInheritsNone() async throws {
        let extra = (0..<1_500).map { _ in open("/dev/null", O_RDONLY) }
        defer { for descriptor in extra { close(descriptor) } }
        try #require(extra.allSatisfy { $0 >= 0 }, "could not open 1,500 descriptors")
        // ls opens the folder it lists as descriptor 3: it is the only one beside the standard three.
        let run = try await runCommand("/usr/bin/env", ["ls", "/proc/self/fd"])
        #expect(run.status == 0)
        #expect(String(decoding: run.stdout, as: UTF8.self) == "0\n1\n2\n3\n")
    }

    @Test func passesEnvironmentDirectoryAndBothStreams() async throws {
        let run = try await runCommand(
            "/bin/sh",
            ["-c", "echo \"$GREETING\"; pwd; echo oops >&2; exit 7"],
            environment: ["GREETING": "hello there"],
            directory: "/usr/lib"
        )
        #expect(run.status == 7)
        #expect(String(decoding: run.stdout, as: UTF8.self) == "hello there\n/usr/lib\n")
        #expect(String(decoding: run.stderr, as: UTF8.self) == "oops\n")
    }

    /// The test runner's threads may block or ignore signals; the child must not inherit that.
    @Test func aSignalEndsTheChildAndItsStatusSaysWhich() async throws {
        let sleeper = try ChildProcess("/bin/sleep", ["60"])
        #expect(sleeper.isRunning)
        kill(sleeper.pid, SIGTERM)
        let status = try await onOwnThread { sleeper.wait() }
        #expect(status == 128 + SIGTERM)
        #expect(!sleeper.isRunning)

        let killed = try ChildProcess("/bin/sleep", ["60"])
        killed.stop()
        #expect(!killed.isRunning)
        #expect(killed.wait() == 128 + SIGKILL)
    }

    @Test func aMissingExecutableIsAnError() throws {
        #expect(throws: SpawnError.self) { try ChildProcess("/nonexistent/program", []) }
    }
}

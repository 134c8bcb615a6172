// Child processes for the tests (servers, the built binary, sqlite3, scripts), started with
// posix_spawn rather than Foundation's `Process`.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process, started with `posix_spawn`: standard input from `/dev/null`, standard output
/// and error to the descriptors given (or `/dev/null`), every other descriptor closed in the child,
/// its own process group, no signal blocked or ignored. Stopped (SIGKILL) when the test lets go of it.
///
/// Not Foundation's `Process`, for two of its faults on Linux that broke full test runs:
/// - To close the parent's descriptors in the child it lists `/proc/self/fd`, copying each entry's
///   256-octet name out of `readdir`'s 32 KiB buffer. Past about 1,360 open descriptors (the suites
///   run in parallel, each with its servers, pools and SMTP connections) the last entry sits at the
///   buffer's end, the copy reads past it, and the test process died of SIGSEGV (CI, stop 34, at
///   about 1,470 descriptors). Here the child closes them itself (`posix_spawn_file_actions_addclosefrom_np`).
/// - When many children ended at once it sometimes never reaped one, and `waitUntilExit()` then
///   spun for ever on a thread of the cooperative pool (a run hung for 20 minutes). Here the child
///   is reaped by `waitpid`, by whoever asks first.
public final class ChildProcess: Sendable {
    /// The child's process id.
    public let pid: pid_t
    /// Its exit status once reaped: the code it exited with, or 128 + the signal that ended it.
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` (a path) with `arguments`, in `directory` (or this one), with
    /// `environment` (or this process's), its standard output and error on the descriptors
    /// `output` and `error` (`nil`: `/dev/null`); the descriptors stay the caller's to close.
    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        output: Int32? = nil,
        error: Int32? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        try Self.check("open /dev/null", posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0))
        for (target, source) in [(Int32(1), output), (Int32(2), error)] {
            if let source {
                try Self.check("dup2", posix_spawn_file_actions_adddup2(&actions, source, target))
            } else {
                try Self.check(
                    "open /dev/null",
                    posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
                )
            }
        }
        if let directory {
            let addChdir = try libcFunction("posix_spawn_file_actions_addchdir_np", as: AddChdir.self)
            try Self.check("chdir \(directory)", addChdir(&actions, directory))
        }
        let addCloseFrom = try libcFunction("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self)
        try Self.check("closefrom", addCloseFrom(&actions, 3))

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        // A thread of the test runner may block signals, and the runner ignores SIGPIPE: the child
        // starts with neither, as from a shell.
        try Self.check("sigmask", posix_spawnattr_setsigmask(&attributes, &noSignals))
        try Self.check("sigdefault", posix_spawnattr_setsigdefault(&attributes, &allSignals))
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        try Self.check("flags", posix_spawnattr_setflags(&attributes, Int16(flags)))

        let environment = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        var pid: pid_t = 0
        let status = withCStrings([executable] + arguments) { argv in
            if let environment {
                return withCStrings(environment) { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            }
            return posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        }
        try Self.check("spawn \(executable)", status)
        self.pid = pid
    }

    /// Starts `executable` with its standard output and error appended to the file `log` (made
    /// if missing), or both on `/dev/null`.
    public convenience init(_ executable: String, _ arguments: [String], log: URL?) throws {
        guard let log else {
            try self.init(executable, arguments)
            return
        }
        let descriptor = open(log.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SpawnError(step: "open \(log.path)", code: errno) }
        defer { close(descriptor) }
        try self.init(executable, arguments, output: descriptor, error: descriptor)
    }

    /// Whether the child has not ended yet (reaps it if it has).
    public var isRunning: Bool { reap(blocking: false) == nil }

    /// Blocks until the child has ended and returns its exit status (128 + the signal's number if
    /// a signal ended it). Call it where blocking is fine: a thread of its own (`onOwnThread`), or
    /// after the child was killed.
    @discardableResult
    public func wait() -> Int32 {
        // Wait without reaping (and without the lock, which `isRunning` takes), then reap.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        return reap(blocking: true) ?? 128 + SIGKILL
    }

    /// Kills the child (SIGKILL: a test server has nothing to flush) and waits until it has ended.
    public func stop() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        wait()
    }

    deinit { stop() }

    /// Collects the child's exit status if it has ended (`blocking`: waiting until it has).
    private func reap(blocking: Bool) -> Int32? {
        exitStatus.withLock { exitStatus in
            if let exitStatus { return exitStatus }
            var raw: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
            } while result == -1 && errno == EINTR
            guard result == pid else { return nil }
            // The wait status: a signal's number in the low 7 bits, else the exit code above them.
            let signal = raw & 0x7f
            exitStatus = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            return exitStatus
        }
    }

    private static func check(_ step: String, _ code: Int32) throws {
        guard code == 0 else { throw SpawnError(step: step, code: code) }
    }
}

/// A child process that could not be started: the step that failed and its `errno`.
public struct SpawnError: Error, CustomStringConvertible {
    public let step: String
    public let code: Int32
    public var description: String { "\(step): \(String(cString: strerror(code)))" }
}

/// Runs a command to its end and returns its exit status and what it wrote to standard output
/// and standard error. The waiting and reading happen on threads of their own (`onOwnThread`).
public func runCommand(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String]? = nil,
    directory: String? = nil
) async throws -> (status: Int32, stdout: Data, stderr: Data) {
    let out = Pipe()
    let err = Pipe()
    let child = try ChildProcess(
        executable,
        arguments,
        environment: environment,
        directory: directory,
        output: out.fileHandleForWriting.fileDescriptor,
        error: err.fileHandleForWriting.fileDescriptor
    )
    // The child has its copies: the reads below end when it closes them.
    try out.fileHandleForWriting.close()
    try err.fileHandleForWriting.close()
    async let stdout = onOwnThread { out.fileHandleForReading.readDataToEndOfFile() }
    let stderr = try await onOwnThread { err.fileHandleForReading.readDataToEndOfFile() }
    let output = try await stdout
    let status = try await onOwnThread { child.wait() }
    return (status, output, stderr)
}

/// Runs blocking work (reading a child's pipes, waiting for it) on a thread of its own. Never on
/// the cooperative pool: it has as many threads as cores (two here), and a test holding one for
/// seconds stalls every other test running at the same time.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// `strings` as a NULL-terminated array of C strings, for `body`'s time.
private func withCStrings<T>(
    _ strings: [String],
    _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) throws -> T
) rethrows -> T {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return try pointers.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

/// The C library's function `name` as `type`: for glibc's `posix_spawn_file_actions_addclosefrom_np`
/// (2.34) and `_addchdir_np` (2.29), which the Glibc module leaves out (they need `_GNU_SOURCE`).
private func libcFunction<Function>(_ name: String, as type: Function.Type) throws -> Function {
    guard let symbol = dlsym(nil, name) else { throw SpawnError(step: name, code: ENOSYS) }
    return unsafeBitCast(symbol, to: type)
}

private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private typealias AddChdir =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) ->
    Int32

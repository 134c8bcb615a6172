import NIOCore
import NIOPosix
import PostgresNIO
import Store
import Synchronization

/// One store call on a pooled connection, answered in bounded time even when postgres-nio does
/// not answer it.
///
/// Two waits of postgres-nio are unbounded, and a call must not hang on either:
/// - While the server is down, the pool keeps a request for a connection waiting (its circuit
///   breaker opens only after 60 s). A call that has no connection after `wait` fails with
///   `StoreError.unavailable`, and its request is cancelled.
/// - A statement sent on a connection that has just closed is never answered: postgres-nio 1.33
///   writes it to the closed channel without a promise, so the failed write completes nothing
///   (vapor/postgres-nio#487 fixed this and was reverted in #501). Statements in flight when the
///   connection closes do fail at once; so once the body has its connection, the call checks
///   every second whether that connection has closed and, if so, fails with `.unavailable`.
///   The body is left to end by itself, or never: nothing can commit on a closed connection.
///
/// A body that has its connection is never cut off while the connection lives, so a transaction
/// never commits after its caller was told that it failed.
///
/// The body runs in a task of its own rather than a child task: a child that never ends would
/// keep its task group, and so the caller, waiting forever.
final class PooledCall<T: Sendable>: Sendable {
    private struct State {
        /// The caller, until it has its answer.
        var caller: CheckedContinuation<T, any Error>?
        /// Set once the body has its connection.
        var connection: PostgresConnection?
        var work: Task<Void, Never>?
        var timer: Scheduled<Void>?
        var cancelled = false
    }

    private let state = Mutex(State())
    private let wait: Duration
    private let loop: any EventLoop

    private init(wait: Duration) {
        self.wait = wait
        loop = MultiThreadedEventLoopGroup.singleton.next()
    }

    /// Runs `body` on a connection of `client`'s pool; see the type's comment for how long a
    /// caller can wait.
    static func run(
        _ client: PostgresClient,
        wait: Duration,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let call = PooledCall(wait: wait)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { caller in
                call.state.withLock { $0.caller = caller }
                call.arm(after: wait)
                let work = Task {
                    do {
                        let value = try await client.withConnection { connection in
                            guard call.begin(on: connection) else { throw CancellationError() }
                            return try await body(connection)
                        }
                        call.answer(.success(value))
                    } catch {
                        call.answer(.failure(error))
                    }
                }
                call.state.withLock { state in
                    state.work = work
                    if state.cancelled { work.cancel() }
                }
            }
        } onCancel: {
            call.cancel()
        }
    }

    /// Records the connection the body runs on; false when the caller was already answered.
    private func begin(on connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard state.caller != nil else { return false }
            state.connection = connection
            return true
        }
    }

    private func answer(_ result: Result<T, any Error>) {
        let caller = state.withLock { state in
            state.timer?.cancel()
            defer { state.caller = nil }
            return state.caller
        }
        caller?.resume(with: result)
    }

    /// Cancels the body's task; a caller still waiting for a connection is answered at once.
    private func cancel() {
        let caller = state.withLock { state in
            state.cancelled = true
            state.work?.cancel()
            guard state.connection == nil else { return nil as CheckedContinuation<T, any Error>? }
            defer { state.caller = nil }
            return state.caller
        }
        caller?.resume(throwing: CancellationError())
    }

    private func arm(after delay: Duration) {
        let timer = loop.scheduleTask(in: TimeAmount(delay)) { self.check() }
        state.withLock { state in
            if state.caller != nil { state.timer = timer } else { timer.cancel() }
        }
    }

    /// The timer: fails a call still without a connection, or one whose connection has closed
    /// under it; otherwise looks again in a second.
    private func check() {
        let (caller, failure, again): (CheckedContinuation<T, any Error>?, StoreError?, Bool) = state.withLock {
            state in
            guard let caller = state.caller else { return (nil, nil, false) }
            guard let connection = state.connection else {
                state.caller = nil
                state.work?.cancel()
                return (caller, .unavailable("no database connection within \(wait)"), false)
            }
            guard connection.isClosed else { return (nil, nil, true) }
            state.caller = nil
            return (caller, .unavailable("the database connection closed during the call"), false)
        }
        if let caller, let failure { caller.resume(throwing: failure) }
        if again { arm(after: .seconds(1)) }
    }
}

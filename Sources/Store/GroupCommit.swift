import Synchronization

/// Group commit: concurrent writes share one transaction and one durable commit.
///
/// A durable commit costs one flush to disk (SQLite's `fsync` with `synchronous = FULL`,
/// PostgreSQL's WAL flush with `synchronous_commit = on`). Paid once per request, it bounds the
/// accept rate to the flushes per second of the disk, whatever the number of cores. Databases solve this
/// inside their log writer (group commit), Kafka with its linger: whoever arrives while a flush is
/// under way waits for the next one, which then makes all of them durable at once.
///
/// This type does the same one level up, for the store's own transactions:
///
/// - A caller ``submit(_:)``s one unit of `Work` and awaits its `Value`.
/// - A writer takes **every unit waiting at that moment** (at most `maxBatch`, in the order they
///   arrived) and hands them to the store's `commit` closure, which runs them in **one** transaction
///   and commits it once. While that commit is flushed, new units queue up; they form the next batch.
///   There is no timer and no linger: an idle store commits a lone unit at once, a busy one batches
///   exactly as much as arrives during one commit.
/// - Up to `writers` batches are written at once, each by a writer of its own (SQLite has one writer
///   connection, so 1; PostgreSQL overlaps the round trips of one batch with another's, and serializes
///   only where their locks meet). A writer starts when a unit arrives and fewer than `writers` run,
///   and ends when it finds the queue empty.
/// - Only once the commit has returned are the callers resumed, each with its own result: a value
///   (which may be a refusal, such as a cooldown, that wrote nothing), or an error that concerns that
///   unit alone. A `202 Accepted` therefore still means "durable". When the transaction as a whole
///   fails (`BEGIN` or `COMMIT` failed, the connection was lost), every unit of the batch gets that
///   error: nothing of the batch is committed.
///
/// ### What `commit` must guarantee
///
/// One unit must not spoil the others: a unit that throws, or that is refused and must write nothing,
/// is undone alone (SQLite: each unit in its own `SAVEPOINT`; PostgreSQL: see `PostgresStore`), and
/// the others of its batch commit. `commit` returns one result per unit, in the order of the batch.
///
/// ### Cancellation
///
/// A caller cancelled while its unit still waits in the queue withdraws it and gets
/// `StoreError.unavailable`: nothing of it was written. Once its unit is in a batch it stays there,
/// and the caller waits for the batch's outcome like the others: a batch is never cut short, so one
/// caller's cancellation can neither lose nor half-apply another's work. Each writer runs in a task of
/// its own, which no caller's cancellation reaches.
///
/// ### Memory
///
/// Every queued unit belongs to a caller suspended in ``submit(_:)``, one unit each, so the queue is
/// bounded by the callers the gateway admits (`server.max_connections`, `delivery.workers`): back
/// pressure is the callers' own wait, and the queue needs no bound of its own. `maxBatch` bounds a
/// transaction's size (and so its lock hold time and the memory of one batch's results).
///
/// ### Timings
///
/// With a ``GroupCommitObserver`` (``observe(_:)``), every unit of a committed batch is reported with
/// its kind (``GroupCommitUnitKind``, given to ``submit(_:kind:)``), how long it waited for its batch's
/// commit to begin, and how long that commit took (its statements and its flush). Without one, no
/// clock is read.
public final class GroupCommit<Work: Sendable, Value: Sendable>: Sendable {
    /// What one batch's transaction answered: one result per unit, in the order of the batch; or, when
    /// the transaction as a whole failed, the one error every unit of the batch gets.
    public typealias Outcome = Result<[Result<Value, StoreError>], StoreError>

    /// A caller waiting for its unit's result.
    private struct Waiter {
        let number: UInt64
        let work: Work
        let kind: GroupCommitUnitKind
        /// When it was queued; nil without an observer.
        let queuedAt: ContinuousClock.Instant?
        let continuation: CheckedContinuation<Result<Value, StoreError>, Never>
    }

    private struct State {
        /// Units not yet taken into a batch, oldest first.
        var waiting: [Waiter] = []
        /// Writer tasks running (each ends when it finds the queue empty).
        var writers = 0
        var statistics = GroupCommitStatistics()
        /// Told the timings of every unit committed (see the type's comment).
        var observer: GroupCommitObserver?
    }

    private let state = Mutex(State())
    private let numbers = Atomic<UInt64>(0)
    private let maxBatch: Int
    private let maxWriters: Int
    private let commit: @Sendable ([Work]) async -> Outcome

    /// - Parameters:
    ///   - maxBatch: the most units one transaction takes (at least 1).
    ///   - writers: the most batches written at the same time (at least 1).
    ///   - commit: runs a batch in one transaction, each unit undone alone when it fails (see the
    ///     type's comment), and commits it once.
    public init(maxBatch: Int, writers: Int = 1, commit: @escaping @Sendable ([Work]) async -> Outcome) {
        precondition(maxBatch >= 1, "a batch holds at least one unit")
        precondition(writers >= 1, "a group commit needs a writer")
        self.maxBatch = maxBatch
        maxWriters = writers
        self.commit = commit
    }

    /// Queues `work` for the next batch and answers its result once that batch has committed;
    /// `kind` is what the observer's timings say it was.
    public func submit(_ work: Work, kind: GroupCommitUnitKind = .other) async throws(StoreError) -> Value {
        let number = numbers.wrappingAdd(1, ordering: .relaxed).newValue
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                enqueue(number: number, work: work, kind: kind, continuation: continuation)
            }
        } onCancel: {
            withdraw(number)
        }
        return try result.get()
    }

    /// Committed batches and units so far, and the units waiting and being written now.
    public var statistics: GroupCommitStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.waiting = state.waiting.count
            statistics.writers = maxWriters
            return statistics
        }
    }

    /// Tells `observer` the timings of every unit committed from now on (nil: no more).
    public func observe(_ observer: GroupCommitObserver?) {
        state.withLock { $0.observer = observer }
    }

    private func enqueue(
        number: UInt64,
        work: Work,
        kind: GroupCommitUnitKind,
        continuation: CheckedContinuation<Result<Value, StoreError>, Never>
    ) {
        // Cancelled before it was queued: `withdraw` ran first and found nothing to withdraw.
        let (queued, startWriter) = state.withLock { state in
            guard !Task.isCancelled else { return (false, false) }
            let queuedAt: ContinuousClock.Instant? = state.observer == nil ? nil : .now
            state.waiting.append(
                Waiter(number: number, work: work, kind: kind, queuedAt: queuedAt, continuation: continuation)
            )
            guard state.writers < maxWriters else { return (true, false) }
            state.writers += 1
            return (true, true)
        }
        if !queued { continuation.resume(returning: .failure(Self.cancelled)) }
        if startWriter { Task { await self.write() } }
    }

    /// Takes a cancelled caller's unit out of the queue, if no batch has taken it yet.
    private func withdraw(_ number: UInt64) {
        let withdrawn: Waiter? = state.withLock { state in
            guard let index = state.waiting.firstIndex(where: { $0.number == number }) else { return nil }
            return state.waiting.remove(at: index)
        }
        withdrawn?.continuation.resume(returning: .failure(Self.cancelled))
    }

    /// The writer: one batch after another until the queue is empty.
    private func write() async {
        while let next = nextBatch() {
            let (batch, observer) = next
            let started: ContinuousClock.Instant? = observer == nil ? nil : .now
            let outcome = await commit(batch.map(\.work))
            let results: [Result<Value, StoreError>]
            switch outcome {
            case .success(let unitResults):
                precondition(unitResults.count == batch.count, "commit answers one result per unit")
                results = unitResults
            case .failure(let error):
                results = Array(repeating: .failure(error), count: batch.count)
            }
            state.withLock { state in
                state.statistics.writing -= batch.count
                guard case .success = outcome else { return }
                state.statistics.batches += 1
                state.statistics.units += batch.count
            }
            if let observer, let started {
                // Told before the callers resume: what they answer next is already counted.
                let ended = ContinuousClock.now
                for waiter in batch {
                    guard let queuedAt = waiter.queuedAt else { continue }
                    observer.observe(waiter.kind, started - queuedAt, ended - started)
                }
            }
            for (waiter, result) in zip(batch, results) { waiter.continuation.resume(returning: result) }
        }
    }

    /// The units waiting now (at most `maxBatch`) and the observer, or nil, and this writer stops,
    /// when none is.
    private func nextBatch() -> ([Waiter], GroupCommitObserver?)? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.writers -= 1
                return nil
            }
            let count = min(state.waiting.count, maxBatch)
            state.statistics.writing += count
            guard count < state.waiting.count else {
                defer { state.waiting.removeAll(keepingCapacity: true) }
                return (state.waiting, state.observer)
            }
            defer { state.waiting.removeFirst(count) }
            return (Array(state.waiting.prefix(count)), state.observer)
        }
    }

    private static var cancelled: StoreError {
        .unavailable("the call was cancelled before its transaction began; nothing was written")
    }
}

/// What a store's group commit has done so far: a test or a benchmark reads batching from it.
public struct GroupCommitStatistics: Sendable, Hashable {
    /// Batches committed: one transaction each, unless a store had to split one (see `PostgresStore`).
    public var batches = 0
    /// Units in those transactions (refusals and units that failed alone included).
    public var units = 0
    /// Units queued now, waiting for the next batch.
    public var waiting = 0
    /// Units of the batches being written now.
    public var writing = 0
    /// The most batches written at the same time.
    public var writers = 1

    public init() {}
}

/// What a unit of a group commit is, as its timings name it.
public enum GroupCommitUnitKind: Sendable, Hashable {
    /// A delivery queued with its idempotency claim and audit event (`AcceptStore.accept`).
    case accept
    /// An attempt's outcome recorded (`GatewayStore.finish`).
    case outcome
    /// An audit event of no delivery (`appendAudit`).
    case audit
    /// Due deliveries leased to the worker (`GatewayStore.leaseDue`, on SQLite's one writer).
    case lease
    /// Anything else.
    case other
}

/// Told, for every unit of a committed batch, its kind, how long it waited in the queue until its
/// batch's commit began, and how long that commit took (its statements and its flush); called on
/// the writer, before the batch's callers resume, so it must be quick (a histogram's observation).
/// The store knows no metrics: the wiring gives it one that records them.
public struct GroupCommitObserver: Sendable {
    /// Takes one unit's kind, its wait and its batch's commit.
    public let observe: @Sendable (_ kind: GroupCommitUnitKind, _ waited: Duration, _ committed: Duration) -> Void

    /// An observer calling `observe` for every unit committed.
    public init(_ observe: @escaping @Sendable (GroupCommitUnitKind, Duration, Duration) -> Void) {
        self.observe = observe
    }
}

/// A store whose writes go through a ``GroupCommit``.
public protocol GroupCommitting: Sendable {
    /// The group commit's figures so far.
    var groupCommits: GroupCommitStatistics { get }

    /// Tells `observer` the timings of every unit its group commit writes from now on.
    func observeGroupCommits(_ observer: GroupCommitObserver)
}

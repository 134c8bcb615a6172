import Synchronization

/// One message waiting for a connection, or on its way through one.
struct SMTPJob: Sendable {
    let message: [UInt8]
    let sender: EmailAddress
    let recipients: [EmailAddress]
    let continuation: CheckedContinuation<Result<SMTPReceipt, SMTPError>, Never>
    /// Whether this is the one immediate resend after a dead kept-open connection.
    var isResend = false
}

/// The messages waiting for a connection, in the order they came, shared by every connection of
/// a transport: whichever connection is free first takes the next one, and a new message wakes
/// one connection that sleeps with nothing to do.
final class SMTPJobQueue: Sendable {
    private struct State {
        var jobs: [SMTPJob] = []
        /// Jobs before this index have been taken (removed in chunks, not one by one).
        var head = 0
        var stopping = false
        /// Idle drivers in (or about to enter) `curl_multi_poll`: a new job must wake one.
        var sleepers: [CurlSMTPDriver] = []

        mutating func removeSleeper(_ driver: CurlSMTPDriver) {
            if let index = sleepers.firstIndex(where: { $0 === driver }) { sleepers.remove(at: index) }
        }
    }

    private let state = Mutex(State())

    /// Queues `job`; false once the queue is stopping (the job is then not taken).
    func submit(_ job: SMTPJob) -> Bool {
        let (queued, sleeper) = state.withLock { state -> (Bool, CurlSMTPDriver?) in
            guard !state.stopping else { return (false, nil) }
            state.jobs.append(job)
            return (true, state.sleepers.popLast())
        }
        // A driver that is busy picks the job up by itself when its message is done.
        sleeper?.wake()
        return queued
    }

    /// The next job for `driver`'s idle connection, if any; `driver` is awake from here on.
    func next(for driver: CurlSMTPDriver) -> SMTPJob? {
        state.withLock { state in
            state.removeSleeper(driver)
            guard state.head < state.jobs.count else { return nil }
            let job = state.jobs[state.head]
            state.head += 1
            if state.head == state.jobs.count {
                state.jobs.removeAll(keepingCapacity: true)
                state.head = 0
            } else if state.head >= 1024 {
                state.jobs.removeFirst(state.head)
                state.head = 0
            }
            return job
        }
    }

    /// Whether `driver` may sleep until a socket, a timer or ``submit(_:)`` wakes it. An idle
    /// driver must not sleep while a job waits or when it is time to exit; it is registered as
    /// a sleeper so that the next job wakes it.
    func maySleep(_ driver: CurlSMTPDriver, idle: Bool) -> Bool {
        state.withLock { state in
            guard idle else { return true }
            if state.head < state.jobs.count || state.stopping { return false }
            state.sleepers.append(driver)
            return true
        }
    }

    /// Whether an idle driver should exit: the queue is stopping and empty.
    var isDrained: Bool {
        state.withLock { $0.stopping && $0.head == $0.jobs.count }
    }

    /// Refuses new jobs from now on and wakes every sleeping driver, so that each exits once the
    /// queued jobs are taken and its own message is done.
    func stop() {
        let sleepers = state.withLock { state in
            state.stopping = true
            defer { state.sleepers.removeAll() }
            return state.sleepers
        }
        for sleeper in sleepers { sleeper.wake() }
    }
}

import CCurl
import Foundation
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

/// The thread that drives every SMTP connection of a transport through libcurl's multi
/// interface: one event loop (`curl_multi_poll`) multiplexes all easy handles, the way an
/// event-driven mail client does, so a reply wakes one thread instead of one per connection.
///
/// `@unchecked Sendable`: the multi handle and the easy handles are touched only on the driver
/// thread, except `curl_multi_wakeup`, which libcurl documents as safe from any thread; the job
/// queue and the exit state that other threads share are behind mutexes.
final class CurlSMTPDriver: @unchecked Sendable {
    private struct Queue {
        var jobs: [SMTPJob] = []
        var stopping = false
        /// The loop is in (or about to enter) `curl_multi_poll`: a new job must wake it.
        var sleeping = false
    }

    private struct Exit {
        var done = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let multi: UnsafeMutableRawPointer
    private let handles: [CurlSMTPHandle]
    private let queue = Mutex(Queue())
    private let exit = Mutex(Exit())
    private let outstandingCount = Atomic<Int>(0)

    /// Messages queued or in flight on this driver.
    var outstanding: Int { outstandingCount.load(ordering: .relaxed) }

    /// Starts the driver thread with `connections` easy handles for `configuration`.
    init(configuration: SMTPConfiguration, connections: Int) throws(SMTPError) {
        var handles: [CurlSMTPHandle] = []
        for _ in 0..<connections { handles.append(try CurlSMTPHandle(configuration: configuration)) }
        guard let multi = curl_multi_init() else {
            throw SMTPError(
                kind: .configuration,
                stage: .connect,
                code: nil,
                message: "libcurl could not be initialised"
            )
        }
        // Keep one open connection per handle between messages.
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, connections)
        self.multi = multi
        self.handles = handles
        let thread = Thread { [self] in run() }
        thread.name = "smtp-driver"
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Queues a message and waits for the server's final answer to it.
    func send(
        _ message: [UInt8],
        sender: EmailAddress,
        recipients: [EmailAddress]
    ) async -> Result<SMTPReceipt, SMTPError> {
        outstandingCount.add(1, ordering: .relaxed)
        defer { outstandingCount.subtract(1, ordering: .relaxed) }
        return await withCheckedContinuation { continuation in
            let job = SMTPJob(message: message, sender: sender, recipients: recipients, continuation: continuation)
            let (queued, wake) = queue.withLock { queue in
                guard !queue.stopping else { return (false, false) }
                queue.jobs.append(job)
                defer { queue.sleeping = false }
                return (true, queue.sleeping)
            }
            // A busy loop picks the job up by itself: waking it costs two system calls per message.
            if wake { curl_multi_wakeup(multi) }
            if !queued { continuation.resume(returning: .failure(Self.shutDown)) }
        }
    }

    /// Lets the queued and in-flight messages finish, then stops the thread.
    func shutdown() async {
        await withCheckedContinuation { continuation in
            let done = exit.withLock { exit in
                if !exit.done { exit.waiters.append(continuation) }
                return exit.done
            }
            queue.withLock { $0.stopping = true }
            curl_multi_wakeup(multi)
            if done { continuation.resume() }
        }
    }

    private static let shutDown = SMTPError(
        kind: .transient,
        stage: .connect,
        code: nil,
        message: "the SMTP transport has shut down"
    )

    /// The event loop: start queued messages on idle handles, let libcurl move every transfer
    /// along, hand finished ones back, sleep until a socket, a timer or a new message wakes it.
    private func run() {
        var idle = handles
        var running: [UnsafeMutableRawPointer: CurlSMTPHandle] = [:]
        while true {
            let (jobs, stopping) = queue.withLock { queue in
                let count = min(idle.count, queue.jobs.count)
                defer { queue.jobs.removeFirst(count) }
                return (Array(queue.jobs.prefix(count)), queue.stopping && queue.jobs.count == count)
            }
            for job in jobs {
                let handle = idle.removeLast()
                start(job, on: handle, running: &running)
            }
            if stopping && running.isEmpty { break }

            var active: Int32 = 0
            _ = curl_multi_perform(multi, &active)
            var left: Int32 = 0
            while let info = curl_multi_info_read(multi, &left) {
                guard info.pointee.msg == CURLMSG_DONE, let easy = info.pointee.easy_handle,
                    let handle = running.removeValue(forKey: easy), let job = handle.job
                else { continue }
                let code = info.pointee.data.result
                _ = curl_multi_remove_handle(multi, easy)
                let (result, resend) = handle.finish(code)
                if resend && !job.isResend {
                    var again = job
                    again.isResend = true
                    start(again, on: handle, running: &running)
                } else {
                    idle.append(handle)
                    job.continuation.resume(returning: result)
                }
            }
            let sleep = queue.withLock { queue in
                // Sleep unless there is a job to start or it is time to exit; a job queued from
                // here on wakes the poll.
                let canStart = !queue.jobs.isEmpty && !idle.isEmpty
                let canExit = queue.stopping && running.isEmpty
                queue.sleeping = !canStart && !canExit
                return queue.sleeping
            }
            if sleep { _ = curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
        let waiters = exit.withLock { exit in
            exit.done = true
            return exit.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func start(
        _ job: SMTPJob,
        on handle: CurlSMTPHandle,
        running: inout [UnsafeMutableRawPointer: CurlSMTPHandle]
    ) {
        handle.begin(job)
        running[handle.easy] = handle
        _ = curl_multi_add_handle(multi, handle.easy)
    }
}

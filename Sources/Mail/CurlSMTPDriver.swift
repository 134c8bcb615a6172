import CCurl
import Foundation
import Synchronization

/// The thread that drives one SMTP connection of a transport through libcurl's multi interface:
/// it takes the next message from the transport's shared queue when its connection is free,
/// lets libcurl move the transfer along, and sleeps (`curl_multi_poll`) until the socket, a
/// timer or a new message wakes it.
///
/// One connection per thread, because libcurl waits for the reply to a message's final "."
/// inside `curl_multi_perform` with a blocking poll (`smtp_done` → `smtp_block_statemach`): a
/// thread that drove several connections would stall all of them for as long as the server
/// takes to accept one message.
///
/// `@unchecked Sendable`: the multi handle and the easy handle are touched only on the driver
/// thread, except `curl_multi_wakeup` (``wake()``), which libcurl documents as safe from any
/// thread; the exit state that other threads share is behind a mutex.
final class CurlSMTPDriver: @unchecked Sendable {
    private struct Exit {
        var done = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let multi: UnsafeMutableRawPointer
    private let handle: CurlSMTPHandle
    private let queue: SMTPJobQueue
    private let exit = Mutex(Exit())

    /// Starts the driver thread with one easy handle for `configuration`, taking jobs from `queue`.
    init(configuration: SMTPConfiguration, queue: SMTPJobQueue) throws(SMTPError) {
        let handle = try CurlSMTPHandle(configuration: configuration)
        guard let multi = curl_multi_init() else {
            throw SMTPError(
                kind: .configuration,
                stage: .connect,
                code: nil,
                message: "libcurl could not be initialised"
            )
        }
        // Keep the connection open between messages.
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 1)
        self.multi = multi
        self.handle = handle
        self.queue = queue
        let thread = Thread { [self] in run() }
        thread.name = "smtp-connection"
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Makes the driver's `curl_multi_poll` return (at once if it is not in it yet).
    func wake() {
        curl_multi_wakeup(multi)
    }

    /// Waits until the driver has exited: after ``SMTPJobQueue/stop()``, once the queue is empty
    /// and its own message is done.
    func waitForExit() async {
        await withCheckedContinuation { continuation in
            let done = exit.withLock { exit in
                if !exit.done { exit.waiters.append(continuation) }
                return exit.done
            }
            if done { continuation.resume() }
        }
    }

    /// The event loop: start the next queued message when the connection is free, let libcurl
    /// move the transfer along, hand the finished one back, sleep until something happens.
    private func run() {
        var job: SMTPJob?
        while true {
            if job == nil, let next = queue.next(for: self) {
                start(next)
                job = next
            }
            if job == nil && queue.isDrained { break }

            var active: Int32 = 0
            _ = curl_multi_perform(multi, &active)
            var left: Int32 = 0
            while let info = curl_multi_info_read(multi, &left) {
                guard info.pointee.msg == CURLMSG_DONE, let current = job else { continue }
                let code = info.pointee.data.result
                _ = curl_multi_remove_handle(multi, handle.easy)
                let (result, resend) = handle.finish(code)
                if resend && !current.isResend {
                    var again = current
                    again.isResend = true
                    start(again)
                    job = again
                } else {
                    job = nil
                    current.continuation.resume(returning: result)
                }
            }
            // An idle connection has no timer of libcurl's running: a new job or the shutdown wakes
            // it, so it need not wake every second by itself (eight connections, eight wake-ups).
            if queue.maySleep(self, idle: job == nil) {
                _ = curl_multi_poll(multi, nil, 0, job == nil ? 60_000 : 1_000, nil)
            }
        }
        let waiters = exit.withLock { exit in
            exit.done = true
            return exit.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func start(_ job: SMTPJob) {
        handle.begin(job)
        _ = curl_multi_add_handle(multi, handle.easy)
    }
}

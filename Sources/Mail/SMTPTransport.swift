import NIOPosix
import Synchronization

/// Delivers messages over SMTP through libcurl, on a pool of kept-open connections.
///
/// The pool has `connections` libcurl easy handles and as many threads of its own: libcurl's
/// blocking `curl_easy_perform` runs there, never on Swift's cooperative pool or a NIO event
/// loop, and each thread holds one handle for the length of one message. A handle keeps its
/// connection open between messages (so a burst costs one handshake per connection, not one per
/// message); a connection found dead is redialled.
public final class SMTPTransport: Sendable {
    private let threads: NIOThreadPool
    private let idle: Mutex<[CurlSMTPSession]>
    /// How many messages can be in flight at once.
    public let connections: Int

    /// A transport for `configuration` with `connections` pooled connections (1…256).
    public init(configuration: SMTPConfiguration, connections: Int) throws(SMTPError) {
        guard (1...256).contains(connections) else {
            throw SMTPError(kind: .configuration, stage: .connect, code: nil, message: "smtp.connections must be from 1 to 256")
        }
        var sessions: [CurlSMTPSession] = []
        for _ in 0..<connections { sessions.append(try CurlSMTPSession(configuration: configuration)) }
        self.idle = Mutex(sessions)
        self.connections = connections
        self.threads = NIOThreadPool(numberOfThreads: connections)
        threads.start()
    }

    /// Sends `message` to its `To` address, from its `From` address (the envelope sender).
    public func send(_ message: EmailMessage) async throws(SMTPError) -> SMTPReceipt {
        try await send(message.rendered(), from: message.from.address, to: [message.to.address])
    }

    /// Sends the rendered message `bytes` with the given envelope.
    public func send(_ bytes: [UInt8], from sender: EmailAddress, to recipients: [EmailAddress]) async throws(SMTPError) -> SMTPReceipt {
        let result: Result<SMTPReceipt, SMTPError>
        do {
            result = try await threads.runIfActive { [self] in
                // The pool runs at most `connections` jobs at once, one per thread, so an idle
                // session is always there to take.
                let session = self.idle.withLock { $0.removeLast() }
                defer { self.idle.withLock { $0.append(session) } }
                return session.send(sender: sender, recipients: recipients, message: bytes)
            }
        } catch {
            throw SMTPError(kind: .transient, stage: .connect, code: nil, message: "the SMTP transport has shut down")
        }
        return try result.get()
    }

    /// Waits for the messages in flight, then stops the threads; later sends fail as transient.
    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}

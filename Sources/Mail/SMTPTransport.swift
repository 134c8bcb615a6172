import Synchronization

/// Delivers messages over SMTP through libcurl, on a pool of kept-open connections.
///
/// The transport owns `connections` libcurl easy handles, each keeping its connection open
/// between messages (a burst costs one handshake per connection, not one per message) and each
/// driven by a dedicated thread through libcurl's multi interface (``CurlSMTPDriver``): libcurl
/// never blocks Swift's cooperative pool or a NIO event loop, and callers simply `await` the
/// server's answer. Messages wait in one queue, in order, for the first free connection. A
/// connection found dead when it is reused is redialled.
public final class SMTPTransport: Sendable {
    private let queue = SMTPJobQueue()
    private let drivers: [CurlSMTPDriver]
    private let outstandingCount = Atomic<Int>(0)
    /// How many messages can be in flight at once.
    public let connections: Int

    /// A transport for `configuration` with `connections` pooled connections (1…256).
    public init(configuration: SMTPConfiguration, connections: Int) throws(SMTPError) {
        guard (1...256).contains(connections) else {
            throw SMTPError(
                kind: .configuration,
                stage: .connect,
                code: nil,
                message: "smtp.connections must be from 1 to 256"
            )
        }
        var drivers: [CurlSMTPDriver] = []
        do throws(SMTPError) {
            for _ in 0..<connections { drivers.append(try CurlSMTPDriver(configuration: configuration, queue: queue)) }
        } catch {
            // The threads already started exit: the queue is stopped and empty.
            queue.stop()
            throw error
        }
        self.drivers = drivers
        self.connections = connections
    }

    /// Sends `message` to its `To` address, from its `From` address (the envelope sender).
    public func send(_ message: EmailMessage) async throws(SMTPError) -> SMTPReceipt {
        try await send(message.rendered(), from: message.from.address, to: [message.to.address])
    }

    /// Sends the rendered message `bytes` with the given envelope. Messages beyond the number of
    /// connections wait their turn, in order.
    public func send(
        _ bytes: [UInt8],
        from sender: EmailAddress,
        to recipients: [EmailAddress]
    ) async throws(SMTPError) -> SMTPReceipt {
        outstandingCount.add(1, ordering: .relaxed)
        defer { outstandingCount.subtract(1, ordering: .relaxed) }
        return try await withCheckedContinuation { continuation in
            let job = SMTPJob(message: bytes, sender: sender, recipients: recipients, continuation: continuation)
            if !queue.submit(job) { continuation.resume(returning: .failure(Self.shutDown)) }
        }.get()
    }

    /// Messages queued or in flight.
    var outstanding: Int { outstandingCount.load(ordering: .relaxed) }

    /// Lets the queued and in-flight messages finish, then stops; later sends fail as transient.
    public func shutdown() async {
        queue.stop()
        for driver in drivers { await driver.waitForExit() }
    }

    private static let shutDown = SMTPError(
        kind: .transient,
        stage: .connect,
        code: nil,
        message: "the SMTP transport has shut down"
    )
}

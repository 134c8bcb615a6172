import Foundation
import Synchronization

/// Delivers messages over SMTP through libcurl, on a pool of kept-open connections.
///
/// The transport owns `connections` libcurl easy handles, each keeping its connection open
/// between messages (a burst costs one handshake per connection, not one per message), and a
/// few dedicated threads (one per core) that drive them through libcurl's multi interface:
/// libcurl never blocks Swift's cooperative pool or a NIO event loop, and callers simply
/// `await` the server's answer. A connection found dead when it is reused is redialled.
public final class SMTPTransport: Sendable {
    private let drivers: [CurlSMTPDriver]
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
        // One driver thread per core (at most one per connection): a single thread tops out
        // well below what two cores can push through libcurl.
        let count = min(connections, max(1, ProcessInfo.processInfo.activeProcessorCount))
        var drivers: [CurlSMTPDriver] = []
        for index in 0..<count {
            let share = connections / count + (index < connections % count ? 1 : 0)
            drivers.append(try CurlSMTPDriver(configuration: configuration, connections: share))
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
        // The least busy driver, so that a slow connection does not hold up messages another could send.
        let driver = drivers.min { $0.outstanding < $1.outstanding } ?? drivers[0]
        return try await driver.send(bytes, sender: sender, recipients: recipients).get()
    }

    /// Messages queued or in flight.
    var outstanding: Int { drivers.reduce(0) { $0 + $1.outstanding } }

    /// Lets the queued and in-flight messages finish, then stops; later sends fail as transient.
    public func shutdown() async {
        for driver in drivers { await driver.shutdown() }
    }
}

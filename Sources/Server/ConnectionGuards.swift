import GatewayConfiguration
import Hummingbird
import HummingbirdCore
import NIOCore
import Synchronization

/// The HTTP/1 server with slow or surplus clients shed: a connection idle for `idle_timeout` is
/// closed (Hummingbird's own idle handling: bytes of an unfinished request head do not count as
/// activity), one whose first request head is not complete within `header_timeout` is closed, and
/// one accepted while `max_connections` are open is closed at once.
public enum ConnectionGuards {
    /// Hummingbird's HTTP/1 server with the guards of `settings`.
    public static func server(_ settings: ServerSettings) -> HTTPServerBuilder {
        let open = OpenConnections(limit: settings.maxConnections)
        let headerTimeout = TimeAmount(settings.headerTimeout)
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [
                    ConnectionLimitHandler(open: open), HeaderTimeoutHandler(timeout: headerTimeout),
                ],
                idleTimeout: TimeAmount(settings.idleTimeout)
            )
        )
    }
}

/// The number of open connections, shared by every connection's ``ConnectionLimitHandler``.
final class OpenConnections: Sendable {
    let limit: Int
    private let count = Atomic(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts one more; whether it is within the limit.
    func open() -> Bool {
        count.wrappingAdd(1, ordering: .relaxed).newValue <= limit
    }

    func close() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }
}

/// Counts its connection while it is open, and closes it at once when it is one too many.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    /// A request part; passed on untouched.
    typealias InboundIn = NIOAny
    private let open: OpenConnections

    init(open: OpenConnections) {
        self.open = open
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if !open.open() { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        open.close()
    }
}

/// Closes its connection unless the first request head is decoded within `timeout` of the
/// handler being added (the connection opening). Later requests on a kept-alive connection are
/// bounded by the idle timeout.
final class HeaderTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    /// A request part; passed on untouched: the first one to arrive here is a complete head.
    typealias InboundIn = NIOAny
    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}

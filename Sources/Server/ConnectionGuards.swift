import GatewayConfiguration
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The HTTP/1 server with slow or surplus clients shed: a connection idle for `idle_timeout` is
/// closed (Hummingbird's own idle handling: bytes of an unfinished request head do not count as
/// activity), one whose first request head is not complete within `header_timeout` is closed, one
/// whose request body keeps the server waiting for `request_timeout` in all is closed, a request
/// answered before its body arrived closes its connection (the body is not drained), and a
/// connection accepted while `max_connections` are open is closed at once.
public enum ConnectionGuards {
    /// Hummingbird's HTTP/1 server with the guards of `settings`.
    public static func server(_ settings: ServerSettings) -> HTTPServerBuilder {
        let open = OpenConnections(limit: settings.maxConnections)
        let headerTimeout = TimeAmount(settings.headerTimeout)
        let requestTimeout = TimeAmount(settings.requestTimeout)
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [
                    ConnectionLimitHandler(open: open), HeaderTimeoutHandler(timeout: headerTimeout),
                    RequestBodyHandler(timeout: requestTimeout),
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

/// Bounds how long a request's body may keep the server waiting, and closes the connection of a
/// request answered before its body arrived instead of reading the rest.
///
/// Waiting is counted from the moment the server asks for more of the body (a `read`) until a
/// part of it arrives, summed over the request: a client sending one byte a second uses up
/// `timeout` in `timeout`, while time the server itself spends between reads (storing a batch as
/// it reads it) does not count. When the budget is used up the connection is closed.
///
/// A response written while its request's body is still arriving (401, 403, 413, 415, a refused
/// route) says `Connection: close`; after it the connection's output is closed and, so that the
/// client reads the answer rather than a reset, its input is read for at most ``linger`` before
/// the connection is closed.
final class RequestBodyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// How long the input of a connection answered early is still read after its answer.
    static let linger = TimeAmount.seconds(2)

    private let timeout: TimeAmount
    /// Request heads and request ends read, and responses ended, on this connection.
    private var heads = 0
    private var ends = 0
    private var responses = 0
    /// What is left of the current request's waiting budget, and since when the server waits.
    private var remaining = TimeAmount.zero
    private var waitingSince: NIODeadline?
    private var deadline: Scheduled<Void>?
    /// The response being written answers a request whose body has not all arrived.
    private var answeredEarly = false
    private var lingering: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// A request whose body has not ended yet.
    private var bodyArriving: Bool { heads > ends }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        stopWaiting()
        switch unwrapInboundIn(data) {
        case .head:
            heads += 1
            remaining = timeout
        case .body:
            break
        case .end:
            ends += 1
        }
        context.fireChannelRead(data)
        // An early answer's request has all arrived: nothing more to read before closing.
        if lingering != nil && !bodyArriving { context.close(promise: nil) }
    }

    func read(context: ChannelHandlerContext) {
        if bodyArriving && waitingSince == nil {
            waitingSince = .now()
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: remaining) {
                context.close(promise: nil)
            }
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.kind != .informational:
            // The request this response answers is the first one not answered yet.
            answeredEarly = ends <= responses
            guard answeredEarly else { break }
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        case .end:
            responses += 1
            guard answeredEarly else { break }
            context.writeAndFlush(data, promise: promise)
            context.close(mode: .output, promise: nil)
            lingering = context.eventLoop.assumeIsolated().scheduleTask(in: Self.linger) {
                context.close(promise: nil)
            }
            return
        default:
            break
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopWaiting()
        lingering?.cancel()
        lingering = nil
    }

    /// Charges the time waited to the request's budget.
    private func stopWaiting() {
        deadline?.cancel()
        deadline = nil
        if let since = waitingSince {
            remaining = remaining - (NIODeadline.now() - since)
            waitingSince = nil
        }
    }
}

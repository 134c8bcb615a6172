public import Hummingbird
public import NIOCore

/// The request context of the stand-in: Hummingbird's basics plus the connection's channel, so a
/// test hook can drop the connection without answering.
public struct StandInRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

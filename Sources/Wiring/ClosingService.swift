import ServiceLifecycle

/// A resource of the gateway (store, HTTP client, SMTP transport) as a service of its group.
///
/// It holds nothing open itself: it waits until the group ends and then closes the resource, once,
/// whichever way the group ends — graceful shutdown (a signal, the end of a test) or cancellation
/// (another service failed, e.g. the HTTP server could not bind its port). Placed before the
/// services that use the resource, it is closed after them on a graceful shutdown, because the
/// group stops its services in reverse order and waits for each.
struct ClosingService: Service, CustomStringConvertible {
    /// What the resource is (ServiceLifecycle's logs name the service by it).
    let description: String
    let close: @Sendable () async -> Void

    func run() async {
        // Returns on graceful shutdown and throws on cancellation: either way the group is ending.
        try? await gracefulShutdown()
        await close()
    }
}

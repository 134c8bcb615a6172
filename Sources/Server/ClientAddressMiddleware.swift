import Foundation
import GatewayConfiguration
import HTTPTypes
import Hummingbird

/// Behind the proxies of `server.trusted_proxies`, the request's client is the last address in
/// `X-Forwarded-For` that is not one of them: each proxy appends the address it was reached from,
/// so the entries from the right up to the first untrusted one are written by proxies the
/// operator named, and what a client writes itself further left is never read. A request from a
/// peer that is not a trusted proxy keeps the peer's address whatever its headers say.
///
/// The address it sets is what the audit log records as `source_ip` and what the console's sign-in
/// throttle counts by; without it every agent behind one proxy shares one throttle bucket, and the
/// audit log names the proxy for everyone.
package struct ClientAddressMiddleware: RouterMiddleware {
    package typealias Context = GatewayRequestContext
    let trusted: [AddressRange]

    package init(trusted: [AddressRange]) {
        self.trusted = trusted
    }

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard !trusted.isEmpty, let peer = context.sourceIP else { return try await next(request, context) }
        var context = context
        context.sourceIP = client(peer: peer, forwardedFor: request.headers[values: .xForwardedFor])
        return try await next(request, context)
    }

    /// The client of a request from `peer` carrying the `X-Forwarded-For` values `forwardedFor`.
    func client(peer: String, forwardedFor: [String]) -> String {
        guard var hop = AddressRange.bytes(of: peer) else { return peer }
        var client = peer
        let entries = forwardedFor.flatMap { $0.split(separator: ",") }
        var index = entries.endIndex
        while trusted.contains(where: { $0.contains(hop) }), index > entries.startIndex {
            index -= 1
            // A proxy wrote something that is not an address: the last proxy is the client.
            guard let previous = AddressRange.bytes(of: entries[index].trimmingCharacters(in: .whitespaces)) else {
                break
            }
            hop = previous
            client = AddressRange.text(of: previous)
        }
        return client
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}

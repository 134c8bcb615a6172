import GatewayConfiguration
import Testing

@testable import Server

/// ``ClientAddressMiddleware``: behind trusted proxies, the last forwarded address that is not one
/// of them; a client's own `X-Forwarded-For` is never believed.
@Suite struct ClientAddressTests {
    let middleware = ClientAddressMiddleware(trusted: [AddressRange("10.0.0.0/8")!, AddressRange("fd00::/8")!])

    @Test func theLastUntrustedHopIsTheClient() {
        #expect(middleware.client(peer: "10.0.0.5", forwardedFor: ["203.0.113.7"]) == "203.0.113.7")
        // What the client wrote itself (left of what the first proxy appended) is not read.
        #expect(middleware.client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1, 203.0.113.7"]) == "203.0.113.7")
        // Two proxies, and two header lines (the same as one joined list).
        #expect(
            middleware.client(peer: "10.0.0.5", forwardedFor: ["198.51.100.1, 203.0.113.7", "10.2.3.4"])
                == "203.0.113.7"
        )
        #expect(middleware.client(peer: "::ffff:10.0.0.5", forwardedFor: ["2001:db8::7 , fd00::3"]) == "2001:db8::7")
    }

    @Test func anUntrustedPeerIsTheClientWhateverItSays() {
        #expect(middleware.client(peer: "203.0.113.7", forwardedFor: ["10.0.0.9"]) == "203.0.113.7")
        #expect(middleware.client(peer: "203.0.113.7", forwardedFor: []) == "203.0.113.7")
    }

    @Test func aProxyWithNothingUsableForwardedIsTheClient() {
        #expect(middleware.client(peer: "10.0.0.5", forwardedFor: []) == "10.0.0.5")
        #expect(middleware.client(peer: "10.0.0.5", forwardedFor: ["unknown"]) == "10.0.0.5")
        #expect(middleware.client(peer: "10.0.0.5", forwardedFor: ["203.0.113.7, 10.0.0.6, junk\r\n"]) == "10.0.0.5")
        #expect(middleware.client(peer: "10.0.0.5", forwardedFor: ["203.0.113.7, garbage, 10.0.0.6"]) == "10.0.0.6")
        // Every hop trusted: the first one.
        #expect(middleware.client(peer: "10.0.0.5", forwardedFor: ["10.0.0.7, 10.0.0.6"]) == "10.0.0.7")
    }
}

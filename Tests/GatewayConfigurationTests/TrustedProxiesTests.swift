import GatewayConfiguration
import Testing

/// `server.trusted_proxies`: addresses and CIDR ranges, IPv4 and IPv6, checked when loaded.
@Suite struct TrustedProxiesTests {
    func contains(_ range: String, _ address: String) throws -> Bool {
        let range = try #require(AddressRange(range))
        return range.contains(try #require(AddressRange.bytes(of: address)))
    }

    @Test func rangesContainTheirAddressesOnly() throws {
        #expect(try contains("10.0.0.0/8", "10.255.1.2"))
        #expect(try !contains("10.0.0.0/8", "11.0.0.1"))
        #expect(try contains("192.168.4.0/22", "192.168.7.255"))
        #expect(try !contains("192.168.4.0/22", "192.168.8.0"))
        #expect(try contains("127.0.0.1", "127.0.0.1"))
        #expect(try !contains("127.0.0.1", "127.0.0.2"))
        #expect(try contains("0.0.0.0/0", "203.0.113.9"))
        #expect(try contains("fd00::/8", "fd12:3456::1"))
        #expect(try !contains("fd00::/8", "fe80::1"))
        #expect(try !contains("::/0", "10.0.0.1"))
        // A dual-stack socket reports an IPv4 peer IPv6-mapped: it is the IPv4 address.
        #expect(try contains("10.0.0.0/8", "::ffff:10.1.2.3"))
        #expect(try contains("::ffff:10.0.0.0/104", "10.9.9.9"))
        #expect(AddressRange("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(AddressRange("FD00::1/8")?.description == "fd00::/8")
    }

    @Test func whatIsNotAnAddressOrRangeIsNot() {
        for text in [
            "", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/", "/8", "10.0.0", "proxy.internal",
            "10.0.0.1:80", "[::1]", "fe80::1%eth0", "::/129", "::ffff:10.0.0.0/95", "10.0.0.0/8/8", " 10.0.0.1",
        ] {
            #expect(AddressRange(text) == nil, "\(text)")
        }
    }

    @Test func theListIsReadAndCheckedWhenLoaded() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("gateway.yaml", "server: { trusted_proxies: [10.0.0.0/8, \"::1\"] }\n")
        let configuration = try ConfigurationLoader.load(file: file, environment: [:])
        #expect(configuration.server.trustedProxies.map(\.description) == ["10.0.0.0/8", "::1/128"])
        #expect(configuration.description.contains("  trusted_proxies: [10.0.0.0/8, ::1/128]"))
        #expect(GatewayConfiguration.defaults.server.trustedProxies.isEmpty)
        let fromEnvironment = try ConfigurationLoader.load(
            file: nil,
            environment: ["RECOVERY_GATEWAY_SERVER_TRUSTED_PROXIES": "10.1.0.0/16, 192.0.2.1"]
        )
        #expect(fromEnvironment.server.trustedProxies.map(\.description) == ["10.1.0.0/16", "192.0.2.1/32"])
        let bad = try directory.write("bad.yaml", "server: { trusted_proxies: [10.0.0.0/8, proxy.internal] }\n")
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(file: bad, environment: [:])
        }
        #expect(error.key == "server.trusted_proxies")
        #expect("\(error)".contains("\"proxy.internal\" is not an IP address or CIDR range"))
    }
}

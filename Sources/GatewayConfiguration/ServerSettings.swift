/// `server`: where the HTTP API listens, how large a request body may be, and how long and how
/// many connections it holds (slow or idle clients are shed).
public struct ServerSettings: Sendable, Equatable, Decodable {
    /// The address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    public var host: String
    /// The TCP port, 1-65535, or 0 for a free one (the log says which).
    public var port: Int
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// A connection with nothing read or written for this long is closed.
    public var idleTimeout: Duration
    /// A connection whose request head (request line and headers) is not complete this long after
    /// it opened, or after its previous response, is closed.
    public var headerTimeout: Duration
    /// Connections open at once; one more is closed as soon as it is accepted.
    public var maxConnections: Int
    /// A request whose body keeps the server waiting this long in all (the time between the
    /// server asking for more of it and more arriving, summed) has its connection closed.
    public var requestTimeout: Duration
    /// The proxies in front of the gateway (`trusted_proxies`): a request from one of them is taken
    /// to come from the last address in its `X-Forwarded-For` that is not one of them (for the audit
    /// log's `source_ip` and the console's sign-in throttle). Empty: the peer's.
    public var trustedProxies: [AddressRange]

    /// `127.0.0.1:8080`, 16 KiB bodies, 30 s idle, 10 s for a request head, 512 connections, 60 s
    /// of waiting for a request's body, no trusted proxy.
    public static let defaults = ServerSettings(
        host: "127.0.0.1",
        port: 8080,
        maxBodyBytes: 16_384,
        idleTimeout: .seconds(30),
        headerTimeout: .seconds(10),
        maxConnections: 512,
        requestTimeout: .seconds(60),
        trustedProxies: []
    )

    /// Builds the settings as given (no checks: the loader checks what comes from outside).
    public init(
        host: String,
        port: Int,
        maxBodyBytes: Int,
        idleTimeout: Duration = defaults.idleTimeout,
        headerTimeout: Duration = defaults.headerTimeout,
        maxConnections: Int = defaults.maxConnections,
        requestTimeout: Duration = defaults.requestTimeout,
        trustedProxies: [AddressRange] = defaults.trustedProxies
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
        self.trustedProxies = trustedProxies
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.server)
        let defaults = Self.defaults
        host = try reader.string("host", default: defaults.host)
        guard !host.contains(where: \.isWhitespace) else { throw reader.error("host", "must not contain spaces") }
        port = try reader.int("port", in: 0...65_535, default: defaults.port)
        maxBodyBytes = try reader.int("max_body_bytes", in: 1_024...16_777_216, default: defaults.maxBodyBytes)
        idleTimeout = try reader.duration("idle_timeout", default: defaults.idleTimeout)
        guard idleTimeout >= .seconds(1), idleTimeout <= .seconds(3_600) else {
            throw reader.error("idle_timeout", "must be from 1s to 1h")
        }
        headerTimeout = try reader.duration("header_timeout", default: defaults.headerTimeout)
        guard headerTimeout >= .milliseconds(100), headerTimeout <= .seconds(300) else {
            throw reader.error("header_timeout", "must be from 100ms to 5m")
        }
        maxConnections = try reader.int("max_connections", in: 1...1_000_000, default: defaults.maxConnections)
        requestTimeout = try reader.duration("request_timeout", default: defaults.requestTimeout)
        guard requestTimeout >= .milliseconds(100), requestTimeout <= .seconds(3_600) else {
            throw reader.error("request_timeout", "must be from 100ms to 1h")
        }
        let proxies = try reader.textList("trusted_proxies") ?? []
        guard proxies.count <= 256 else { throw reader.error("trusted_proxies", "must list at most 256 ranges") }
        trustedProxies = try proxies.map { text in
            guard let range = AddressRange(text) else {
                throw reader.error(
                    "trusted_proxies",
                    "\"\(text.prefix(64))\" is not an IP address or CIDR range (10.0.0.0/8, fd00::/8)"
                )
            }
            return range
        }
    }
}

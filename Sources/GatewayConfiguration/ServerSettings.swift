/// `server`: where the HTTP API listens and how large a request body may be.
public struct ServerSettings: Sendable, Equatable, Decodable {
    /// The address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    public var host: String
    /// The TCP port, 1-65535, or 0 for a free one (the log says which).
    public var port: Int
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes: Int

    /// `127.0.0.1:8080`, 16 KiB bodies.
    public static let defaults = ServerSettings(host: "127.0.0.1", port: 8080, maxBodyBytes: 16_384)

    /// Builds the settings as given (no checks: the loader checks what comes from outside).
    public init(host: String, port: Int, maxBodyBytes: Int) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.server)
        let defaults = Self.defaults
        host = try reader.string("host", default: defaults.host)
        guard !host.contains(where: \.isWhitespace) else { throw reader.error("host", "must not contain spaces") }
        port = try reader.int("port", in: 0...65_535, default: defaults.port)
        maxBodyBytes = try reader.int("max_body_bytes", in: 1_024...16_777_216, default: defaults.maxBodyBytes)
    }
}

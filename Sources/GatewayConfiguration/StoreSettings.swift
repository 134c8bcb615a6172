import Foundation

/// `store`: where deliveries, idempotency records and the audit log live.
public struct StoreSettings: Sendable, Equatable, Decodable {
    /// The kind of store a URL names.
    public enum Kind: Sendable, Equatable {
        /// `sqlite://data/gateway.sqlite` (relative to the working directory) or `sqlite:///abs/path`.
        case sqlite(path: String)
        /// `postgres://…` or `postgresql://…`: accepted here, the store decides whether it supports it.
        case postgres
    }

    /// The store URL; a PostgreSQL URL may hold a password, so print ``redactedURL`` instead.
    public var url: String
    /// What ``url`` names.
    public var kind: Kind
    /// PostgreSQL only: how many connections the gateway's pool may open.
    public var maxConnections: Int
    /// PostgreSQL only: how long a call waits for a pooled connection (the database is down, or
    /// every connection is busy) before it fails with 503 `store_unavailable`.
    public var connectionWait: Duration

    /// SQLite in `data/gateway.sqlite`; on PostgreSQL a pool of 20 connections and a 5 s wait.
    public static let defaults = StoreSettings(
        url: "sqlite://data/gateway.sqlite",
        kind: .sqlite(path: "data/gateway.sqlite")
    )

    /// Builds the settings as given.
    public init(url: String, kind: Kind, maxConnections: Int = 20, connectionWait: Duration = .seconds(5)) {
        self.url = url
        self.kind = kind
        self.maxConnections = maxConnections
        self.connectionWait = connectionWait
    }

    /// ``url`` with its password replaced by `***`.
    public var redactedURL: String { URLRedaction.redactingPassword(in: url) }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.store)
        url = try reader.string("url", default: Self.defaults.url)
        guard let kind = Self.kind(of: url) else {
            throw reader.error(
                "url",
                "must be sqlite://PATH (e.g. sqlite://data/gateway.sqlite) or postgres://[user[:password]@]host[:port]/database"
            )
        }
        self.kind = kind
        maxConnections = try reader.int("max_connections", in: 1...1000, default: Self.defaults.maxConnections)
        connectionWait = try reader.duration("connection_wait", default: Self.defaults.connectionWait)
    }

    /// The kind of store `url` names, or `nil` if it is neither a SQLite path nor a PostgreSQL URL.
    static func kind(of url: String) -> Kind? {
        guard let schemeEnd = url.range(of: "://"), !url.contains(where: \.isWhitespace) else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        switch scheme {
        case "sqlite":
            guard !rest.isEmpty, !rest.hasSuffix("/"), !rest.contains("?"), !rest.contains("#") else { return nil }
            return .sqlite(path: String(rest))
        case "postgres", "postgresql":
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let host = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
            guard !host.isEmpty, !host.hasPrefix(":") else { return nil }
            return .postgres
        default:
            return nil
        }
    }
}

/// Printed (and reflected, e.g. by `dump` or `\(settings)`) with the password redacted.
extension StoreSettings: CustomStringConvertible, CustomReflectable {
    public var description: String { "StoreSettings(url: \(redactedURL))" }
    public var customMirror: Mirror { Mirror(reflecting: description) }
}

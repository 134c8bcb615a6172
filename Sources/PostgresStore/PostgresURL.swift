import Foundation
import PostgresNIO
import Store

/// Reads `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]` into a
/// client configuration. Errors name the part at fault, never the password.
enum PostgresURL {
    static func configuration(_ url: String) throws(StoreError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else {
            throw .invalidQuery(parameter: "store.url", reason: "must be postgres://user@host[:port]/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidQuery(parameter: "store.url", reason: "names no host")
        }
        guard let user = components.user?.removingPercentEncoding, !user.isEmpty else {
            throw .invalidQuery(parameter: "store.url", reason: "names no user (postgres://user@host/database)")
        }
        let database = String(components.path.drop { $0 == "/" }).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidQuery(parameter: "store.url", reason: "names no database (postgres://user@host/database)")
        }
        let tls: PostgresClient.Configuration.TLS
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        switch sslmode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        default:
            throw .invalidQuery(
                parameter: "store.url",
                reason: "sslmode must be disable, prefer, require or verify-full"
            )
        }
        return PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user,
            password: components.password?.removingPercentEncoding,
            database: database,
            tls: tls
        )
    }
}

import Foundation

/// Where and how to reach the Kratos admin API: self-hosted (`http://127.0.0.1:4434`, no
/// authentication) or Ory Network (`https://<slug>.projects.oryapis.com` with a Bearer project API key).
///
/// Its `description` and its mirror (what `print`, string interpolation and `dump` show, also of
/// any value holding it) never show the token.
public struct KratosConfiguration: Sendable, CustomStringConvertible, CustomReflectable {
    /// Base URL of the admin API, without a trailing slash.
    public let adminURL: String
    /// The Ory Network project API key sent as `Authorization: Bearer …`; `nil` when self-hosted.
    public let bearerToken: String?
    /// Base used to make relative links absolute (self-hosted `/admin/recovery/code` answers `/ui/recovery?flow=…`).
    public let publicURL: String?
    /// Limit for each call, from connecting to the last byte of the answer.
    public let timeout: Duration
    /// Sent as `User-Agent` with every call (`recovery-gateway/0.1.0`); none when `nil`.
    public let userAgent: String?

    /// Why a configuration is not usable.
    public enum Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        case invalidURL(field: String, value: String)
        case nonPositiveTimeout
        case unreadableTokenFile(path: String)
        case emptyTokenFile(path: String)

        public var description: String {
            switch self {
            case .invalidURL(let field, let value): "kratos \(field) \"\(value)\" is not an absolute http(s) URL"
            case .nonPositiveTimeout: "kratos timeout must be greater than zero"
            case .unreadableTokenFile(let path): "kratos token file \(path) cannot be read"
            case .emptyTokenFile(let path): "kratos token file \(path) is empty"
            }
        }
    }

    /// Checks and stores the settings; URLs must be absolute http(s) URLs.
    public init(
        adminURL: String,
        bearerToken: String? = nil,
        publicURL: String? = nil,
        timeout: Duration = .seconds(5),
        userAgent: String? = nil
    ) throws(Error) {
        self.adminURL = try Self.checkedBase(adminURL, field: "admin_url")
        self.publicURL = try publicURL.map { (url: String) throws(Error) in
            try Self.checkedBase(url, field: "public_url")
        }
        guard timeout > .zero else { throw .nonPositiveTimeout }
        self.bearerToken = bearerToken.flatMap { $0.isEmpty ? nil : $0 }
        self.timeout = timeout
        self.userAgent = userAgent
    }

    /// Reads a project API key from a file, trimming surrounding whitespace and the final newline.
    public static func readToken(fromFile path: String) throws(Error) -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw .unreadableTokenFile(path: path) }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .emptyTokenFile(path: path) }
        return token
    }

    private static func checkedBase(_ text: String, field: String) throws(Error) -> String {
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        guard let components = URLComponents(string: base), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else { throw .invalidURL(field: field, value: text) }
        return base
    }

    public var description: String {
        "KratosConfiguration(adminURL: \(adminURL), bearerToken: \(bearerToken == nil ? "none" : "<redacted>"), "
            + "publicURL: \(publicURL ?? "none"), timeout: \(timeout))"
    }

    public var customMirror: Mirror { Mirror(reflecting: description) }
}

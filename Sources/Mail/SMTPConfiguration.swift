import Foundation

/// Where and how to reach the SMTP server, read from a URL in the syntax of Kratos's
/// `courier.smtp.connection_uri`, so an Ory operator can paste theirs:
///
/// - `smtp://user:pass@host:587/`: STARTTLS, required (the default: a server that does not offer
///   it is refused, so credentials never cross the network in clear);
/// - `smtp://host:1025/?disable_starttls=true`: plain text, for local catchers only;
/// - `?skip_ssl_verify=true`: TLS without certificate verification (not recommended);
/// - `?server_name=mail.example.com`: the name the certificate is checked against (and sent as
///   SNI) when it differs from the host connected to;
/// - `smtps://user:pass@host:465/`: implicit TLS (RFC 8314).
///
/// User and password are percent-decoded; the password may instead come from a file. No error
/// and no `description` ever shows the password.
public struct SMTPConfiguration: Sendable, CustomStringConvertible, CustomReflectable {
    /// How the connection is protected.
    public enum Security: String, Sendable {
        /// `smtp://`: STARTTLS after the greeting, required.
        case startTLS
        /// `smtps://`: TLS from the first byte.
        case implicitTLS
        /// `smtp://…?disable_starttls=true`: no TLS at all.
        case none
    }

    public var host: String
    public var port: Int
    public var username: String?
    /// The AUTH password; kept out of `description` and every error text.
    public var password: String?
    public var security: Security
    /// `false` with `skip_ssl_verify=true`.
    public var verifyCertificate: Bool
    /// The name to verify the certificate against and send as SNI, if not `host`.
    public var serverName: String?
    /// A PEM file of trusted CA certificates, instead of the system's (for private CAs).
    public var caFile: String?
    /// The domain to announce in EHLO; libcurl's default when `nil`.
    public var localName: String?
    /// Time allowed to connect (TCP and TLS) and, separately, for one whole message.
    public var timeout: Duration

    /// Parses a Kratos-style SMTP URL; `passwordFile`, when given, supplies the password.
    public init(
        url: String,
        passwordFile: String? = nil,
        caFile: String? = nil,
        localName: String? = nil,
        timeout: Duration = .seconds(10)
    ) throws(SMTPConfigurationError) {
        let parsed = try SMTPURL(url)
        self.host = parsed.host
        self.port = parsed.port
        self.username = parsed.username
        self.password = parsed.password
        self.security = parsed.security
        self.verifyCertificate = !parsed.skipVerify
        self.serverName = parsed.serverName
        self.caFile = caFile
        self.localName = localName
        self.timeout = timeout
        if let passwordFile {
            guard password == nil else {
                throw SMTPConfigurationError(part: "password", problem: "given both in the URL and in a password file")
            }
            self.password = try Self.readSecret(passwordFile)
        }
        if password != nil && username == nil {
            throw SMTPConfigurationError(part: "user", problem: "a password needs a user name")
        }
    }

    /// What `dump` and reflection show: the redacted description, never the password.
    public var customMirror: Mirror { Mirror(reflecting: description) }

    /// The URL with the password replaced by `***`.
    public var description: String {
        let scheme = security == .implicitTLS ? "smtps" : "smtp"
        var userinfo = ""
        if let username {
            userinfo =
                (username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? "")
                + (password == nil ? "" : ":***") + "@"
        }
        var query: [String] = []
        if security == .none { query.append("disable_starttls=true") }
        if !verifyCertificate { query.append("skip_ssl_verify=true") }
        if let serverName { query.append("server_name=\(serverName)") }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(userinfo)\(hostPart):\(port)/" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// A secret file's content without its trailing line end.
    private static func readSecret(_ path: String) throws(SMTPConfigurationError) -> String {
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8)
        else {
            throw SMTPConfigurationError(part: "password file", problem: "cannot read \(path)")
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw SMTPConfigurationError(part: "password file", problem: "\(path) is empty") }
        return text
    }
}

/// A bad SMTP URL or password file: names the part that is wrong, never the password.
public struct SMTPConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The part of the URL (scheme, user, password, host, port, path, a query parameter) or the file.
    public let part: String
    public let problem: String

    public var description: String { "SMTP URL: \(part): \(problem)" }
}

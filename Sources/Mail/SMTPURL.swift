import Foundation

/// The pieces of a Kratos-style SMTP URL, checked one by one so that an error can say which
/// part is wrong (``SMTPConfiguration`` documents the syntax).
struct SMTPURL {
    var host: String
    var port: Int
    var username: String?
    var password: String?
    var security: SMTPConfiguration.Security
    var skipVerify = false
    var serverName: String?

    init(_ url: String) throws(SMTPConfigurationError) {
        func fail(_ part: String, _ problem: String) -> SMTPConfigurationError {
            SMTPConfigurationError(part: part, problem: problem)
        }
        guard !url.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw fail("URL", "contains white space or a line break")
        }
        guard let schemeEnd = url.range(of: "://") else {
            throw fail("scheme", "missing (expected smtp:// or smtps://)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "smtp": security = .startTLS
        case "smtps": security = .implicitTLS
        default: throw fail("scheme", "\"\(scheme)\" is not supported (expected smtp or smtps)")
        }
        var rest = url[schemeEnd.upperBound...]
        var query = ""
        if let questionMark = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: questionMark)...])
            rest = rest[..<questionMark]
        }
        if rest.contains("#") { throw fail("fragment", "not allowed") }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            guard rest[slash...] == "/" else { throw fail("path", "must be empty or \"/\"") }
        }
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let (user, secret) =
                userinfo.firstIndex(of: ":").map { (userinfo[..<$0], Optional(userinfo[userinfo.index(after: $0)...])) }
                ?? (userinfo, nil)
            guard let decodedUser = user.removingPercentEncoding, !decodedUser.isEmpty else {
                throw fail("user", "empty or badly percent-encoded")
            }
            username = decodedUser
            if let secret {
                guard let decoded = secret.removingPercentEncoding else {
                    throw fail("password", "badly percent-encoded")
                }
                password = decoded.isEmpty ? nil : decoded
            }
        }
        (host, port) = try Self.hostAndPort(authority, defaultPort: security == .implicitTLS ? 465 : 25, fail: fail)
        try parseQuery(query, fail: fail)
    }

    private static func hostAndPort(
        _ authority: Substring,
        defaultPort: Int,
        fail: (String, String) -> SMTPConfigurationError
    ) throws(SMTPConfigurationError) -> (String, Int) {
        var host = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("host", "unclosed [ in an IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("host", "unexpected text after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { throw fail("host", "missing") }
        guard
            host.unicodeScalars.allSatisfy({
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-:_".unicodeScalars.contains($0))
            })
        else { throw fail("host", "contains characters not allowed in a host name") }
        guard let portText else { return (String(host), defaultPort) }
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw fail("port", "must be a number from 1 to 65535")
        }
        return (String(host), port)
    }

    private mutating func parseQuery(
        _ query: String,
        fail: (String, String) -> SMTPConfigurationError
    ) throws(SMTPConfigurationError) {
        for pair in query.split(separator: "&") {
            let (key, value) =
                pair.firstIndex(of: "=").map { (pair[..<$0], pair[pair.index(after: $0)...]) } ?? (pair, "")
            switch key {
            case "disable_starttls":
                if try Self.bool(value, name: "disable_starttls", fail: fail) {
                    guard security == .startTLS else { throw fail("disable_starttls", "only applies to smtp://") }
                    security = .none
                }
            case "skip_ssl_verify":
                skipVerify = try Self.bool(value, name: "skip_ssl_verify", fail: fail)
            case "server_name":
                guard let name = value.removingPercentEncoding, !name.isEmpty else {
                    throw fail("server_name", "empty")
                }
                serverName = name
            default:
                throw fail(
                    "query parameter \"\(key)\"",
                    "unknown (known: disable_starttls, skip_ssl_verify, server_name)"
                )
            }
        }
    }

    /// A boolean as Go's `strconv.ParseBool` reads it (Kratos parses these parameters with it).
    private static func bool(
        _ text: Substring,
        name: String,
        fail: (String, String) -> SMTPConfigurationError
    ) throws(SMTPConfigurationError) -> Bool {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: throw fail(name, "\"\(text)\" is not a boolean (true or false)")
        }
    }
}

import Foundation
import JSONValue

/// The origin of a URL: scheme, host and port (the default port of `http` and `https` left out),
/// lower-cased, as a browser compares them. A link may point only where this says.
public struct LinkOrigin: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?

    /// The origin of the absolute URL `text`; nil when it is not one (no scheme or no host), or is
    /// not a URL at all.
    public init?(url text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = components.port == Self.defaultPorts[scheme] ? nil : components.port
    }

    /// An origin as configured: an absolute `http` or `https` URL without user, query or fragment,
    /// and no path but `/`. Nil otherwise.
    public init?(configured text: String) {
        guard let components = URLComponents(string: text), ["http", "https"].contains(components.scheme ?? ""),
            components.user == nil, components.password == nil, components.query == nil, components.fragment == nil,
            ["", "/"].contains(components.path)
        else { return nil }
        self.init(url: text)
    }

    public var description: String { "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "") }

    private static let defaultPorts = ["http": 80, "https": 443]
}

/// Where the links of Kratos's courier messages may point: Kratos's own origins
/// (`courier.allowed_link_origins`, by default the origin of `kratos.public_url`). A courier key
/// holder could otherwise have the organisation's own recovery email, from its own sender, carry
/// a link anywhere.
public struct CourierLinkPolicy: Sendable, Equatable {
    public let origins: Set<LinkOrigin>

    public init(origins: Set<LinkOrigin>) { self.origins = origins }

    /// The link members of `template_data` (or of the flat document).
    static let linkMembers = ["recovery_url", "verification_url"]

    /// Checks every link `message` carries to the recipient: its link members, and — when the
    /// gateway sends what Kratos rendered (`source` is `.kratos`) — every URL in its body and HTML
    /// body. A link elsewhere, or one that is no URL, is an error naming the member.
    public func check(_ message: KratosCourierMessage, source: CourierEmail.Source) throws(CourierMessageError) {
        let prefix = message.shape == .context ? "template_data." : ""
        for member in Self.linkMembers {
            guard let link = message.templateData[member]?.stringValue else { continue }
            try check(link, field: prefix + member)
        }
        guard source == .kratos else { return }
        for (field, text) in [("body", message.body), ("html_body", message.htmlBody)] {
            for link in Self.links(in: text ?? "") { try check(link, field: field) }
        }
    }

    private func check(_ link: String, field: String) throws(CourierMessageError) {
        guard let origin = LinkOrigin(url: link), origins.contains(origin) else {
            throw CourierMessageError(
                .invalid,
                field: field,
                "links to an origin that is not one of courier.allowed_link_origins (Kratos's own)"
            )
        }
    }

    /// Every absolute URL in `text` (`scheme://…`), and every protocol-relative one in an HTML
    /// attribute (`href="//…"`), up to the first space, quote or angle bracket.
    static func links(in text: String) -> [String] {
        // Made per call: a `Regex` is not `Sendable`, and a body is checked once per message.
        let absolute = /(?i)[a-z][a-z0-9+.\-]*:\/\/[^\s"'<>]+/
        let relative = /(?i)(?:href|src|action)\s*=\s*["']?(\/\/[^\s"'<>]+)/
        var found = text.matches(of: absolute).map { String($0.output) }
        for match in text.matches(of: relative) { found.append("https:" + match.output.1) }
        return found
    }
}

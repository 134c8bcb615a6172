import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import Templates

/// The console's pages (mustache templates), stylesheet and script, compiled into the binary as
/// `openapi.yaml` is: the page fetches nothing from anywhere else.
enum ConsolePages {
    /// The templates by name; `head` and `foot` are partials of every page. Every `{{value}}` is
    /// HTML-escaped byte by byte (``HTMLEscaping``, not swift-mustache's default, which a combining
    /// mark after a quote got past), and no template uses `{{{ }}}`.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let sources: [(String, [UInt8])] = [
            ("head", PackageResources.head_mustache), ("foot", PackageResources.foot_mustache),
            ("sign-in", PackageResources.sign_in_mustache), ("users", PackageResources.users_mustache),
            ("identity", PackageResources.identity_mustache), ("send", PackageResources.send_mustache),
            ("delivery", PackageResources.delivery_mustache), ("audit", PackageResources.audit_mustache),
            ("error", PackageResources.error_mustache), ("continue", PackageResources.continue_mustache),
        ]
        for (name, bytes) in sources {
            // The templates are part of the build; ConsoleTests renders each of them.
            try! library.register(HTMLEscaping.pragma + String(decoding: bytes, as: UTF8.self), named: name)
        }
        return library
    }()

    /// The Content-Security-Policy of every console answer: only this origin's own stylesheet,
    /// script and requests; no inline script, no eval, no framing, forms post only here.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// The headers every console answer carries (set by ``ConsoleHeadersMiddleware``).
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: contentSecurityPolicy,
        .xContentTypeOptions: "nosniff",
        .referrerPolicy: "no-referrer",
        .xFrameOptions: "DENY",
        .crossOriginOpenerPolicy: "same-origin",
        // Pages show personal data; none is kept by the browser or a proxy.
        .cacheControl: "no-store",
    ]

    /// The page `name` rendered with `context`, as `text/html`.
    static func page(_ name: String, _ context: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(context, withTemplate: name) ?? ""
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    /// A static asset.
    static func asset(_ bytes: [UInt8], contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A `303 See Other` to `location` (after a form is posted, or to sign in).
    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let crossOriginOpenerPolicy = Self("Cross-Origin-Opener-Policy")!
}

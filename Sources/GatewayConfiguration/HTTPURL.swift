import Foundation

/// Checks that a text is an absolute `http`/`https` URL with a host and without credentials,
/// query or fragment: the shape of a Kratos base URL.
enum HTTPURL {
    /// The URL without trailing slashes, or `nil` if it is not such a URL.
    static func checkedBase(_ text: String) -> String? {
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        guard let components = URLComponents(string: base), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.user == nil, components.password == nil, components.query == nil, components.fragment == nil
        else { return nil }
        return base
    }
}

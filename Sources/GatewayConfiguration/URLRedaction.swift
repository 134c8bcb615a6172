import Foundation

/// Hides the password of a URL (`smtp://user:***@host/`) so the URL can go into a log or a description.
enum URLRedaction {
    /// `url` with the text between the user name's `:` and the `@` of the authority replaced by `***`.
    static func redactingPassword(in url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userinfo = authority[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return url }
        return String(url[..<userinfo.index(after: colon)]) + "***" + String(url[at...])
    }
}

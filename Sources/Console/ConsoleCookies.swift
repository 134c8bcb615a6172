/// The console's cookies: `__Host-` names when they are `Secure` (the browser then refuses them
/// from another path, a subdomain or plain HTTP), all `Path=/` and `HttpOnly`.
struct ConsoleCookies: Sendable {
    let secure: Bool

    /// The session id.
    var session: String { name("rg_console") }
    /// The sign-in form's own random value, which its CSRF token is keyed by.
    var signIn: String { name("rg_console_signin") }
    /// The secret of an OpenID Connect sign-in in flight (``OIDCSignIn``).
    var oidc: String { name("rg_console_oidc") }
    /// The ID token the provider signed the agent in with, for its sign-out (`id_token_hint`);
    /// kept by the browser, not the store.
    var idToken: String { name("rg_console_idt") }

    private func name(_ base: String) -> String { secure ? "__Host-" + base : base }

    /// A `Set-Cookie` value. `SameSite=Strict` except where the provider's redirect must carry it
    /// back (`lax`): the sign-in in flight.
    func setCookie(_ name: String, _ value: String, maxAge: Int? = nil, lax: Bool = false) -> String {
        var cookie = "\(name)=\(value); Path=/; HttpOnly; SameSite=\(lax ? "Lax" : "Strict")"
        if secure { cookie += "; Secure" }
        if let maxAge { cookie += "; Max-Age=\(maxAge)" }
        return cookie
    }

    /// A `Set-Cookie` value that removes the cookie.
    func clear(_ name: String) -> String { setCookie(name, "", maxAge: 0) }
}

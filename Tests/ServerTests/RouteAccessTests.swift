import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import Wiring

/// Which routes answer without an API key: the router lists its routes, and every one of them is
/// asked without a key — a route added without a scope requirement fails this test.
@Suite("Route access", .serialized)
struct RouteAccessTests {
    /// The routes anyone may call: liveness, readiness, the API document, the metrics.
    static let publicRoutes: Set<String> = [
        "GET /health/alive", "GET /health/ready", "GET /openapi.yaml", "GET /metrics",
    ]

    /// The console's ways in, which need no session: its root, the sign-in form and its post, the
    /// identity provider's sign-in and its answer, and its stylesheet and script. Every other console
    /// route needs a session (a Bearer key is none).
    static let consoleEntrances: Set<String> = [
        "GET /console", "GET /console/sign-in", "POST /console/sign-in", "GET /console/assets/console.css",
        "GET /console/assets/console.js", "GET /console/assets/icon.svg", "GET /console/oidc/start",
        "GET /console/oidc/callback",
    ]

    @Test func everyRouteButTheDocumentedPublicOnesAnswers401WithoutAKey() async throws {
        try await withGatewayRuntime { runtime, _, _ in
            let routes = runtime.router().routes.map { (method: $0.method, path: "\($0.path)") }
            let named = Set(routes.map { "\($0.method) \($0.path)" })
            #expect(Self.publicRoutes.isSubset(of: named), "\(named)")
            let protected = routes.filter { !Self.publicRoutes.contains("\($0.method) \($0.path)") }
            #expect(protected.count >= 5, "\(named)")
            try await runtime.application(logger: Logger(label: "test")).test(.live) { client in
                for route in routes {
                    // A parameter (`{id}`) gets a well-formed value, so that only the key is missing.
                    let uri = route.path.split(separator: "/", omittingEmptySubsequences: false)
                        .map { $0.hasPrefix("{") ? UUID().uuidString.lowercased() : String($0) }
                        .joined(separator: "/")
                    let response = try await client.call(route.method, uri, key: nil)
                    let name = "\(route.method) \(route.path)"
                    if route.path.hasPrefix("/console") {
                        // Not a JSON API route, and not public: HTML pages behind a session.
                        try await Self.expectConsoleRefusal(client, route.method, uri, name: name)
                        continue
                    }
                    if Self.publicRoutes.contains(name) {
                        #expect(response.status != .unauthorized, "\(name)")
                    } else {
                        #expect(response.status == .unauthorized, "\(name)")
                        #expect(response.object["code"] as? String == "unauthorized", "\(name)")
                    }
                    // An unknown key is no key.
                    let unknown = try await client.call(route.method, uri, key: "rg_not_a_configured_key")
                    #expect((unknown.status == .unauthorized) == !Self.publicRoutes.contains(name), "\(name)")
                }
            }
        }
    }

    /// A console route without a session: an entrance answers without 401; any other `GET` sends
    /// the browser to sign in, any other method is 401 — with or without an API key.
    static func expectConsoleRefusal(
        _ client: any TestClientProtocol,
        _ method: HTTPRequest.Method,
        _ uri: String,
        name: String
    ) async throws {
        for key in [nil, Keys.backend] {
            let response = try await client.call(method, uri, key: key)
            #expect(response.headers[.contentSecurityPolicy] != nil, "\(name)")
            if consoleEntrances.contains(name) {
                #expect(response.status != .unauthorized, "\(name)")
            } else if method == .get {
                #expect(response.status == .seeOther, "\(name)")
                #expect(response.headers[.location] == "/console/sign-in", "\(name)")
            } else {
                #expect(response.status == .unauthorized, "\(name)")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8", "\(name)")
            }
        }
    }

    @Test func aKeyWithoutTheGroupsScopeIsForbidden() async throws {
        try await withGateway { client, _, _ in
            for (method, uri) in [(HTTPRequest.Method.post, "/v1/recovery-emails"), (.get, "/v1/audit-events")] {
                let response = try await client.call(method, uri, key: Keys.reader)
                #expect(response.status == .forbidden, "\(method) \(uri)")
                #expect(response.object["code"] as? String == "insufficient_scope", "\(method) \(uri)")
            }
            let allowed = try await client.call(.get, "/v1/recovery-emails", key: Keys.reader)
            #expect(allowed.status == .ok)
        }
    }
}

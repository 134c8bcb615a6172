import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kratos
import Synchronization
import Testing

/// Every call to the admin API carries the configured `User-Agent`, and none without one.
@Suite struct UserAgentTests {
    /// Calls `identity(id:)` against a server that records the header and answers 404.
    static func userAgentSeen(configured: String?) async throws -> [String?] {
        let seen = Mutex<[String?]>([])
        let router = Router()
        router.get("admin/identities/:id") { request, _ -> Response in
            seen.withLock { $0.append(request.headers[.userAgent]) }
            return Response(status: .notFound)
        }
        try await Application(router: router).test(.live) { client in
            let configuration = try KratosConfiguration(
                adminURL: "http://127.0.0.1:\(client.port!)",
                userAgent: configured
            )
            let kratos = KratosClient(configuration: configuration, httpClient: .shared)
            _ = await expectKratosError { _ = try await kratos.identity(id: Fixture.unknown) }
        }
        return seen.withLock { $0 }
    }

    @Test func theConfiguredUserAgentIsSent() async throws {
        #expect(try await Self.userAgentSeen(configured: "recovery-gateway/9.8.7") == ["recovery-gateway/9.8.7"])
    }

    @Test func withoutOneNoneIsSent() async throws {
        #expect(try await Self.userAgentSeen(configured: nil) == [nil])
    }
}

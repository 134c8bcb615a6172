import AsyncHTTPClient
import Hummingbird
import HummingbirdTesting
import Kratos
import KratosStandIn
import TestSupport
import Testing

/// A client of `adminURL` using the shared, pooled `HTTPClient`.
func makeClient(
    _ adminURL: String,
    token: String? = nil,
    publicURL: String? = nil,
    timeout: Duration = .seconds(5)
) throws -> KratosClient {
    let configuration = try KratosConfiguration(
        adminURL: adminURL,
        bearerToken: token,
        publicURL: publicURL,
        timeout: timeout
    )
    return KratosClient(configuration: configuration, httpClient: .shared)
}

/// Ids of the identities in `config/stand-in-identities.json`.
enum Fixture {
    static let email = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
    static let multi = "5b4c9a8e-3f1d-4c2a-9e7b-1d2f3a4b5c6d"
    static let phone = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    static let bare = "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f70"
    static let unknown = "11111111-2222-4333-8444-555555555555"
}

/// Runs `body` expecting a `KratosError`, and returns it.
func expectKratosError(_ body: () async throws -> Void) async -> KratosError? {
    do {
        try await body()
        return nil
    } catch let error as KratosError {
        return error
    } catch {
        Issue.record("expected a KratosError, got \(error)")
        return nil
    }
}

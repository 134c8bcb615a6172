import Hummingbird
import HummingbirdTesting
import KratosStandIn

/// Runs a real stand-in on a free loopback port for the duration of `body`.
public func withStandIn<Value: Sendable>(
    _ configuration: StandInConfiguration = StandInConfiguration(),
    _ body: @Sendable (_ standIn: KratosStandIn, _ adminURL: String) async throws -> Value
) async throws -> Value {
    let standIn = try KratosStandIn(configuration: configuration)
    return try await standIn.application(port: 0).test(.live) { client in
        try await body(standIn, "http://127.0.0.1:\(client.port!)")
    }
}

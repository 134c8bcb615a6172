import Foundation
import Hummingbird
import HummingbirdTesting
import JSONValue
import KratosStandIn
import NIOCore

/// Runs a stand-in on a free loopback port and hands its test client to `body`.
func withStandIn<Value: Sendable>(
    _ configuration: StandInConfiguration = StandInConfiguration(),
    _ body: @Sendable (_ standIn: KratosStandIn, _ client: any TestClientProtocol) async throws -> Value
) async throws -> Value {
    let standIn = try KratosStandIn(configuration: configuration)
    return try await standIn.application(port: 0).test(.live) { client in try await body(standIn, client) }
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// `Tests/Fixtures/kratos`: files copied from Ory Kratos (provenance in its README.md).
let kratosFixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/kratos")

/// One of Kratos's JSON fixtures, by file name.
func fixture(_ name: String) throws -> JSONValue {
    let data = try Data(contentsOf: kratosFixtures.appendingPathComponent("fixtures/" + name))
    return try JSONDecoder().decode(JSONValue.self, from: data)
}

func json(_ buffer: ByteBuffer) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
}

func body(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }

let fixtureID = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"

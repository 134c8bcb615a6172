import Foundation
import GatewayConfiguration
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KratosStandIn
import Logging
import NIOCore
import Server
import TestSupport
import Wiring

/// The API keys the harness configures: one that may do everything but send to any recipient,
/// one that may only read.
enum Keys {
    static let backend = "rg_test_backend_key_0123456789"
    static let reader = "rg_test_reader_key_0123456789"
    static let kratos = "rg_test_kratos_courier_key_0123"
}

/// Runs the real gateway (SQLite in a temp dir, the stand-in, aiosmtpd, the shipped templates)
/// in-process on a free port, and hands the test an HTTP client for it. `seed` is a folder whose
/// files (a store, its keys) are copied into the gateway's folder before it starts.
func withGateway(
    yaml extra: String = "",
    seed: URL? = nil,
    _ body:
        @Sendable (_ client: any TestClientProtocol, _ standIn: KratosStandIn, _ smtp: AiosmtpdServer) async throws ->
        Void
) async throws {
    try await withGatewayRuntime(yaml: extra, seed: seed) { runtime, standIn, smtp in
        // The application closes the runtime's resources when the test ends, passed or failed.
        let application = runtime.application(logger: Logger(label: "test"))
        try await application.test(.live) { client in try await body(client, standIn, smtp) }
    }
}

/// The real gateway's parts, started as `withGateway` starts them (`extra` YAML lines appended to
/// the configuration); `body` must run its application (which closes them).
func withGatewayRuntime(
    yaml extra: String = "",
    seed: URL? = nil,
    _ body:
        @Sendable (_ runtime: GatewayRuntime, _ standIn: KratosStandIn, _ smtp: AiosmtpdServer) async throws -> Void
) async throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    if let seed {
        for name in try FileManager.default.contentsOfDirectory(atPath: seed.path) {
            let copy = directory.appendingPathComponent(name)
            try FileManager.default.copyItem(at: seed.appendingPathComponent(name), to: copy)
            // Git keeps no file modes but the executable bit: key files must be the owner's alone.
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: copy.path)
        }
    }
    let smtp = try await AiosmtpdServer.start()
    defer { smtp.stop() }
    try await withStandIn { standIn, adminURL in
        let yaml = """
            server: { port: 0, max_body_bytes: 4096 }
            kratos: { admin_url: "\(adminURL)" }
            smtp: { url: "smtp://127.0.0.1:\(smtp.port)/?disable_starttls=true" }
            store: { url: "sqlite://\(directory.path)/gateway.sqlite" }
            audit: { key_file: "\(directory.path)/audit.key" }
            courier: { payload_key_file: "\(directory.path)/courier-payload.key", max_body_bytes: 65536, allowed_link_origins: [https://auth.example.com] }
            templates: { dir: "\(repositoryRoot.appendingPathComponent("templates").path)" }
            delivery: { backoff_initial: 100ms, cooldown: 0s, rate_per_key: 100000, burst_per_key: 100000 }
            api_keys:
              - { name: backend, sha256: "\(APIKey.sha256Hex(of: Keys.backend))", scopes: [recovery:send, recovery:read, audit:read, identity:read] }
              - { name: reader, sha256: "\(APIKey.sha256Hex(of: Keys.reader))", scopes: [recovery:read] }
              - { name: kratos, sha256: "\(APIKey.sha256Hex(of: Keys.kratos))", scopes: [courier:kratos] }
            \(extra)
            """
        let configuration = try ConfigurationLoader.load(yaml: yaml, source: "test", environment: [:])
        try await body(try await GatewayRuntime.start(configuration), standIn, smtp)
    }
}

extension TestClientProtocol {
    /// A request with the backend key (or `key`) and JSON.
    func call(
        _ method: HTTPRequest.Method,
        _ uri: String,
        key: String? = Keys.backend,
        headers: HTTPFields = [:],
        json: String? = nil
    ) async throws -> TestResponse {
        var headers = headers
        if let key { headers[.authorization] = "Bearer \(key)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    /// The body as a JSON object.
    var object: [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) else {
            return [:]
        }
        return object as? [String: Any] ?? [:]
    }
}

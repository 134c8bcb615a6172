import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("recovery-gateway serve (the built binary)")
struct ServeCommandTests {
    /// A port another process listens on: the server cannot bind, and every resource the gateway
    /// had opened by then (store, SMTP transport, HTTP client) is closed on that path too — an
    /// HTTP client left open traps in its deinit in a debug build, which would end the process
    /// with a signal and not with exit code 1 and one line.
    @Test func aTakenPortExitsWith1AndOneLineNamingIt() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let listener = try LoopbackListener()
        defer { listener.close() }
        let result = try await run(
            ["serve", "--port", "\(listener.port)"],
            environment: ["RECOVERY_GATEWAY_TEMPLATES_DIR": repositoryRoot.appendingPathComponent("templates").path],
            in: directory
        )
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderrIsOneLine, "\(result.stderr)")
        #expect(
            result.stderr
                == "recovery-gateway: cannot start: server.port: cannot listen on 127.0.0.1:\(listener.port): Address already in use\n"
        )
        // It got as far as opening its resources: the store was created and migrated.
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("data/gateway.sqlite").path))
    }
}

/// A socket listening on a free loopback port until `close()`.
private struct LoopbackListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let descriptor = descriptor
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 1) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        try #require(listening, "could not listen on a loopback port")
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}

import Foundation
import HTTPTypes
import HummingbirdTesting
import Kratos
import Logging
import NIOCore
import TestSupport
import Testing

@testable import Wiring

/// The version a gateway runs with reaches what it shows to others: `recovery_gateway_build_info` on
/// `/metrics`, and the `User-Agent` of its calls to Kratos.
@Suite struct BuildInfoTests {
    @Test func theMetricsNameTheVersion() async throws {
        try await withGateway { client, _, _ in
            let scrape = try await client.call(.get, "/metrics", key: nil)
            let page = try PrometheusText(String(buffer: scrape.body))
            #expect(page.value("recovery_gateway_build_info", ["version": GatewayVersion.current]) == 1)
        }
    }

    @Test func kratosIsCalledWithTheVersionsUserAgent() async throws {
        try await withGatewayRuntime { runtime, _, _ in
            #expect(runtime.kratos.configuration.userAgent == "recovery-gateway/\(GatewayVersion.current)")
            // The application closes the runtime's resources.
            try await runtime.application(logger: Logger(label: "test")).test(.live) { _ in }
        }
        let file = repositoryRoot.appendingPathComponent("VERSION")
        #expect(
            GatewayVersion.current == (try String(contentsOf: file, encoding: .utf8)).trimmingCharacters(in: .newlines)
        )
    }
}

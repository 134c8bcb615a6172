import Foundation
import Kratos
import KratosStandIn
import TestSupport
import Testing

@Suite struct RecoveryTests {
    @Test func createsALinkThatIsWhatTheStandInIssued() async throws {
        try await withStandIn { standIn, url in
            let before = Date()
            let link = try await makeClient(url).createRecoveryLink(
                identityID: Fixture.email,
                expiresIn: try KratosDuration(parsing: "90m")
            )
            let issued = try #require(standIn.state.issued.last)
            #expect(link.url == issued.recoveryLink)
            #expect(issued.expiresIn == "1h30m0s")
            #expect(link.url.hasPrefix("http://127.0.0.1:4433/self-service/recovery?flow=\(issued.flowID)&token="))
            let lifetime = link.expiresAt.timeIntervalSince(before)
            #expect(lifetime > 5_390 && lifetime < 5_410)
            // Interpolating the link into a log shows no secret.
            #expect(!"\(link)".contains(link.url))
            #expect(!String(reflecting: link).contains("token="))
        }
    }

    @Test func createsACodeWithAnAbsoluteLink() async throws {
        try await withStandIn { standIn, url in
            let code = try await makeClient(url).createRecoveryCode(
                identityID: Fixture.multi,
                expiresIn: try KratosDuration(parsing: "15m")
            )
            let issued = try #require(standIn.state.issued.last)
            #expect(code.code == issued.recoveryCode)
            #expect(code.code.count == 6 && code.code.allSatisfy(\.isNumber))
            #expect(code.url == "http://127.0.0.1:4433/ui/recovery?flow=\(issued.flowID)")
            #expect(!"\(code)".contains(code.code))
            #expect(!"\(code)".contains(issued.flowID))
        }
    }

    @Test func resolvesARelativeCodeLinkAgainstThePublicURL() async throws {
        try await withStandIn(StandInConfiguration(relativeCodeLinks: true)) { standIn, url in
            let client = try makeClient(url, publicURL: "https://id.example.com/")
            let code = try await client.createRecoveryCode(
                identityID: Fixture.email,
                expiresIn: try KratosDuration(parsing: "1h")
            )
            let issued = try #require(standIn.state.issued.last)
            #expect(issued.recoveryLink.hasPrefix("/ui/recovery?flow="))
            #expect(code.url == "https://id.example.com" + issued.recoveryLink)
        }
    }

    @Test func aRelativeLinkWithoutPublicURLIsAConfigurationError() async throws {
        try await withStandIn(StandInConfiguration(relativeCodeLinks: true)) { standIn, url in
            let client = try makeClient(url)
            let error = await expectKratosError {
                _ = try await client.createRecoveryCode(
                    identityID: Fixture.email,
                    expiresIn: KratosDuration(.seconds(60))!
                )
            }
            #expect(error?.kind == .badRequest)
            let issued = try #require(standIn.state.issued.last)
            let text = error.map { "\($0)" } ?? ""
            #expect(!text.contains(try #require(issued.recoveryCode)))
            #expect(!text.contains(issued.flowID))
        }
    }
}

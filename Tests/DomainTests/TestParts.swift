import Foundation
import Kratos
import Mail
import Templates
import TestSupport

@testable import Domain

/// The shipped templates (the repository's `templates/`), English by default.
func shippedTemplates() throws -> TemplateCatalog {
    try TemplateCatalog.load(directory: repositoryRoot.appendingPathComponent("templates").path, defaultLocale: "en")
}

extension GatewaySettings {
    /// The settings of these tests: mail from no-reply@example.com, links valid for an hour, three
    /// attempts; the rest as given or the gateway's defaults.
    static func forTests(
        cooldown: Duration = .seconds(60),
        ratePerKey: Double = 10,
        burstPerKey: Int = 20
    ) throws -> GatewaySettings {
        GatewaySettings(
            from: try Mailbox(displayName: "Example", address: EmailAddress("no-reply@example.com")),
            defaultMethod: .link,
            defaultExpiresIn: try KratosDuration(parsing: "1h"),
            cooldown: cooldown,
            idempotencyWindow: .seconds(86_400),
            ratePerKey: ratePerKey,
            burstPerKey: burstPerKey,
            lease: .seconds(60),
            workers: 32,
            retry: RetryPolicy(maxAttempts: 3, initialBackoff: .seconds(2), maxBackoff: .seconds(10)),
            batchRate: 50
        )
    }
}

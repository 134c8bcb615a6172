import Foundation

/// How fast Kratos's courier may post: each API key at the per-key rate every key has
/// (`delivery.rate_per_key`, `burst_per_key`), and each recipient at most `recipientLimit` messages
/// within `recipientWindow` (`courier.recipient_limit`, `recipient_window`), so that a leaked
/// courier key cannot flood one address. Kratos's own flows (a code, a resend or two) stay far
/// below it; a refusal is a 429, which Kratos retries on a later poll.
public struct CourierLimits: Sendable {
    let perKey: RateLimiter
    let perRecipient: RateLimiter

    public init(ratePerKey: Double, burstPerKey: Int, recipientLimit: Int, recipientWindow: Duration) {
        perKey = RateLimiter(rate: ratePerKey, burst: burstPerKey)
        perRecipient = RateLimiter(
            rate: Double(recipientLimit) / (recipientWindow / .seconds(1)),
            burst: recipientLimit
        )
    }
}

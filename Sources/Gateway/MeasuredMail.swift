import Mail

/// A ``MailSending`` that times every send of the one it wraps into
/// `recovery_gateway_smtp_send_duration_seconds{result}` (ok, or the failure's class).
public struct MeasuredMail: MailSending {
    let base: any MailSending
    let metrics: GatewayMetrics

    /// Times the sends of `base`.
    public init(_ base: any MailSending, metrics: GatewayMetrics) {
        self.base = base
        self.metrics = metrics
    }

    public func send(_ message: EmailMessage) async throws(SMTPError) -> SMTPReceipt {
        let started = ContinuousClock.now
        do {
            let receipt = try await base.send(message)
            metrics.time(.smtpSendDuration, [("result", "ok")], .now - started)
            return receipt
        } catch {
            metrics.time(.smtpSendDuration, [("result", error.kind.rawValue)], .now - started)
            throw error
        }
    }
}

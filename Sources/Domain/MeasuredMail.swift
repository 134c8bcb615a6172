import Mail

/// The SMTP transport as a delivery uses it, every send timed into
/// `recovery_gateway_smtp_send_duration_seconds{result}` (ok, or the failure's class) and as the
/// attempt's ``DeliveryPhase/smtp``.
struct MeasuredMail: Sendable {
    let base: SMTPTransport
    let metrics: GatewayMetrics

    /// Times the sends of `base`.
    init(_ base: SMTPTransport, metrics: GatewayMetrics) {
        self.base = base
        self.metrics = metrics
    }

    func send(_ message: EmailMessage) async throws(SMTPError) -> SMTPReceipt {
        let started = ContinuousClock.now
        do {
            let receipt = try await base.send(message)
            let elapsed = ContinuousClock.now - started
            metrics.time(.smtpSendDuration, [("result", "ok")], elapsed)
            metrics.time(.smtp, elapsed)
            return receipt
        } catch {
            let elapsed = ContinuousClock.now - started
            metrics.time(.smtpSendDuration, [("result", error.kind.rawValue)], elapsed)
            metrics.time(.smtp, elapsed)
            throw error
        }
    }
}

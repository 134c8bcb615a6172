import Mail

/// The SMTP transport as a delivery uses it, every send timed into
/// `recovery_gateway_smtp_send_duration_seconds{result}` (ok, or the failure's class).
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
            metrics.time(.smtpSendDuration, [("result", "ok")], .now - started)
            return receipt
        } catch {
            metrics.time(.smtpSendDuration, [("result", error.kind.rawValue)], .now - started)
            throw error
        }
    }
}

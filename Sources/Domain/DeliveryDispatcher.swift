import Foundation
import Mail
import Store

/// One attempt of a delivery: asks the composer of its kind for the email and sends it once over
/// SMTP. A new kind of delivery is a case of `DeliveryContent` and its composer here; anything done
/// to every email before it goes out (signing it, say) is done once, in ``attempt(_:)``.
public struct DeliveryDispatcher: Sendable {
    let recovery: RecoveryComposer
    /// Composes the rows Kratos's courier posted; without it they wait (a configuration failure).
    let courier: CourierMessageComposer?
    let mail: MeasuredMail
    let metrics: GatewayMetrics

    /// - Parameter metrics: where the sends and the courier messages' render phase are timed.
    public init(
        recovery: RecoveryComposer,
        courier: CourierMessageComposer? = nil,
        mail: SMTPTransport,
        metrics: GatewayMetrics = .disabled
    ) {
        self.recovery = recovery
        self.courier = courier
        self.mail = MeasuredMail(mail, metrics: metrics)
        self.metrics = metrics
    }

    /// The server's acceptance, or why this attempt failed.
    public func attempt(_ delivery: Delivery) async -> Result<SMTPReceipt, DeliveryError> {
        do {
            let message = try await message(for: delivery)
            do {
                return .success(try await mail.send(message))
            } catch {
                return .failure(DeliveryError(error))
            }
        } catch {
            return .failure(error)
        }
    }

    private func message(for delivery: Delivery) async throws(DeliveryError) -> EmailMessage {
        switch delivery.content {
        case .recovery(let order):
            return try await recovery.message(for: delivery, order)
        case .courier(let sealed):
            guard let courier else {
                throw DeliveryError(
                    errorClass: .configuration,
                    source: "gateway",
                    message: "this gateway sends no Kratos courier messages"
                )
            }
            let rendering = ContinuousClock.now
            defer { metrics.time(.render, .now - rendering) }
            return try courier.message(for: delivery, sealed)
        }
    }
}

import Courier
import Foundation
import Mail
import Store

/// Makes one attempt at a courier delivery: opens the sealed message of the row, composes it (the
/// gateway's template in the message's locale, or Kratos's rendering) and sends it. No Kratos call:
/// Kratos made the link or code before it posted the message. It lives only in this call's memory.
public struct CourierSender: Sendable {
    let payloadKey: CourierPayloadKey
    let composer: CourierComposer
    let mail: MeasuredMail
    let from: Mailbox
    let now: @Sendable () -> Date

    /// - Parameter metrics: where the sends are timed.
    public init(
        payloadKey: CourierPayloadKey,
        composer: CourierComposer,
        mail: SMTPTransport,
        from: Mailbox,
        metrics: GatewayMetrics = .disabled,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.payloadKey = payloadKey
        self.composer = composer
        self.mail = MeasuredMail(mail, metrics: metrics)
        self.from = from
        self.now = now
    }

    /// The server's acceptance, or why this attempt failed.
    public func attempt(_ record: DeliveryRecord) async -> Result<SMTPReceipt, DeliveryError> {
        do {
            return .success(try await send(record))
        } catch {
            return .failure(error)
        }
    }

    private func send(_ record: DeliveryRecord) async throws(DeliveryError) -> SMTPReceipt {
        guard now() < record.deadline else {
            throw Self.permanent(.expired, "the message's lifetime has passed")
        }
        guard let sealed = record.sealedPayload else {
            throw Self.permanent(.rejected, "the delivery holds no courier message")
        }
        let message: KratosCourierMessage
        do {
            message = try payloadKey.open(sealed, context: record.id.uuidString)
        } catch {
            // Another key (the payload key file changed) or altered bytes: no attempt can open it.
            throw Self.permanent(.rejected, "\(error)")
        }
        let composed: CourierEmail
        do {
            composed = try composer.compose(message)
        } catch {
            switch error {
            case .template(let problem): throw DeliveryError(problem)
            case .message(let problem): throw Self.permanent(.rejected, "\(problem)")
            }
        }
        let email: EmailMessage
        do {
            email = try EmailMessage(
                from: from,
                to: Mailbox(address: try EmailAddress(record.recipient)),
                subject: composed.subject,
                text: composed.text,
                html: composed.html,
                messageID: try MessageID(record.messageID),
                date: now(),
                contentLanguage: composed.contentLanguage
            )
        } catch {
            throw Self.permanent(.rejected, "the stored courier message is not sendable: \(error)")
        }
        do {
            return try await mail.send(email)
        } catch {
            throw DeliveryError(error)
        }
    }

    private static func permanent(_ failure: DeliveryFailure, _ message: String) -> DeliveryError {
        DeliveryError(errorClass: .permanent, failure: failure, source: "gateway", message: message)
    }
}

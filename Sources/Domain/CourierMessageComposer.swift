import CourierInbox
import Foundation
import Mail
import Store

/// Composes the email of one attempt of a courier message: opens the sealed document of the row and
/// composes it (the gateway's template in the message's locale, or Kratos's rendering). No Kratos
/// call: Kratos made the link or code before it posted the message. It lives only in this call's memory.
public struct CourierMessageComposer: Sendable {
    let payloadKey: CourierPayloadKey
    let composer: CourierComposer
    let from: Mailbox
    let now: @Sendable () -> Date

    public init(
        payloadKey: CourierPayloadKey,
        composer: CourierComposer,
        from: Mailbox,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.payloadKey = payloadKey
        self.composer = composer
        self.from = from
        self.now = now
    }

    /// The email `delivery` sends for `stored`, or why this attempt cannot send one.
    func message(for delivery: Delivery, _ stored: SealedCourierMessage) throws(DeliveryError) -> EmailMessage {
        guard now() < delivery.deadline else {
            throw Self.permanent(.expired, "the message's lifetime has passed")
        }
        guard let sealed = stored.sealed else {
            throw Self.permanent(.rejected, "the delivery holds no courier message")
        }
        let message: KratosCourierMessage
        do {
            message = try payloadKey.open(sealed, context: delivery.id.uuidString)
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
        do {
            return try EmailMessage(
                from: from,
                to: Mailbox(address: delivery.recipient),
                subject: composed.subject,
                text: composed.text,
                html: composed.html,
                messageID: delivery.messageID,
                date: now(),
                contentLanguage: composed.contentLanguage
            )
        } catch {
            throw Self.permanent(.rejected, "the stored courier message is not sendable: \(error)")
        }
    }

    private static func permanent(_ failure: DeliveryFailure, _ message: String) -> DeliveryError {
        DeliveryError(errorClass: .permanent, failure: failure, source: "gateway", message: message)
    }
}

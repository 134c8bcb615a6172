import Foundation
import JSONValue
import Kratos
import Mail
import Store
import Templates
import UUIDText

/// Composes the email of one attempt of a recovery order: fetches the identity (if the template
/// prints it), creates the link or code at Kratos (now, so that it is fresh, and valid until the
/// delivery's deadline) and renders the template. The link and code live only in this call's
/// memory, between Kratos and SMTP.
public struct RecoveryComposer: Sendable {
    let issuer: MeasuredKratos
    let templates: TemplateCatalog
    let from: Mailbox
    /// Where the attempt's Kratos and render phases are timed (``DeliveryPhase``).
    let metrics: GatewayMetrics
    let now: @Sendable () -> Date

    /// - Parameter metrics: where the Kratos calls and the phases are timed.
    public init(
        issuer: KratosClient,
        templates: TemplateCatalog,
        from: Mailbox,
        metrics: GatewayMetrics = .disabled,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.issuer = MeasuredKratos(issuer, metrics: metrics)
        self.templates = templates
        self.from = from
        self.metrics = metrics
        self.now = now
    }

    /// The email `delivery` sends for `order`, or why this attempt cannot send one.
    func message(for delivery: Delivery, _ order: RecoveryOrder) async throws(DeliveryError) -> EmailMessage {
        let remaining = Duration.seconds(delivery.deadline.timeIntervalSince(now()).rounded(.down))
        guard remaining >= LinkLifetime.minimumAtSend, let lifetime = KratosDuration(remaining) else {
            throw DeliveryError(
                errorClass: .permanent,
                failure: .expired,
                source: "gateway",
                message: "the link's lifetime has passed"
            )
        }
        let identityID = order.identityID.lowercasedString
        // The identity is fetched only for a template that prints it; a deleted identity shows
        // anyway, as Kratos refuses to create its link or code.
        var traits: JSONValue = .object([:])
        let secret: (url: String, code: String?, expiresAt: Date)
        let calling = ContinuousClock.now
        do {
            if templates.usesIdentity(order.template) {
                traits = try await issuer.identity(id: identityID).traits
            }
            switch order.method {
            case .link:
                let link = try await issuer.createRecoveryLink(identityID: identityID, expiresIn: lifetime)
                secret = (link.url, nil, link.expiresAt)
            case .code:
                let code = try await issuer.createRecoveryCode(identityID: identityID, expiresIn: lifetime)
                secret = (code.url, code.code, code.expiresAt)
            }
        } catch {
            metrics.time(.kratos, .now - calling)
            throw DeliveryError(error)
        }
        metrics.time(.kratos, .now - calling)
        return try render(delivery, order, identityID: identityID, traits: traits, secret: secret)
    }

    /// The email of `order` with its `secret` (link, code, expiry) and the identity's `traits`,
    /// timed as the attempt's ``DeliveryPhase/render``.
    private func render(
        _ delivery: Delivery,
        _ order: RecoveryOrder,
        identityID: String,
        traits: JSONValue,
        secret: (url: String, code: String?, expiresAt: Date)
    ) throws(DeliveryError) -> EmailMessage {
        let rendering = ContinuousClock.now
        defer { metrics.time(.render, .now - rendering) }
        let minutes = max(1, Int((secret.expiresAt.timeIntervalSince(now()) / 60).rounded()))
        let data = TemplateData(
            to: delivery.recipient.description,
            recoveryURL: secret.url,
            recoveryCode: secret.code,
            identityID: identityID,
            traits: traits,
            expiresInMinutes: minutes,
            transientPayload: order.transientPayload ?? .object([:])
        )
        do {
            let rendered = try templates.render(order.template, locale: order.locale, method: order.method, data: data)
            return try EmailMessage(
                from: from,
                to: Mailbox(address: delivery.recipient),
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
                messageID: delivery.messageID,
                date: now()
            )
        } catch let error as TemplateError {
            throw DeliveryError(error)
        } catch {
            throw DeliveryError(errorClass: .configuration, source: "template", message: "\(error)")
        }
    }
}

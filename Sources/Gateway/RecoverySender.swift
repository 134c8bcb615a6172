import Foundation
import JSONValue
import Kratos
import Mail
import Store
import Templates

/// One delivery, as an attempt needs it (the worker builds it from the stored row).
public struct DeliveryJob: Sendable {
    public var identityID: String
    public var recipient: EmailAddress
    public var method: RecoveryMethod
    public var template: String
    public var locale: String?
    /// Fixed when the request was accepted: every attempt sends the same one.
    public var messageID: MessageID
    /// The time the requested link would have expired: nothing is sent after it.
    public var deadline: Date
    public var transientPayload: JSONValue?

    public init(
        identityID: String,
        recipient: EmailAddress,
        method: RecoveryMethod,
        template: String,
        locale: String?,
        messageID: MessageID,
        deadline: Date,
        transientPayload: JSONValue?
    ) {
        self.identityID = identityID
        self.recipient = recipient
        self.method = method
        self.template = template
        self.locale = locale
        self.messageID = messageID
        self.deadline = deadline
        self.transientPayload = transientPayload
    }
}

/// Makes one attempt at a delivery: fetches the identity (if the template prints it), creates the link or code at Kratos
/// (now, so that it is fresh, and valid until the delivery's deadline), renders the template and
/// sends the email. The link and code live only in this call's memory, between Kratos and SMTP.
public struct RecoverySender: Sendable {
    let issuer: any KratosAdmin
    let mail: any MailSending
    let templates: TemplateCatalog
    let from: Mailbox
    let now: @Sendable () -> Date

    public init(
        issuer: any KratosAdmin,
        mail: any MailSending,
        templates: TemplateCatalog,
        from: Mailbox,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.issuer = issuer
        self.mail = mail
        self.templates = templates
        self.from = from
        self.now = now
    }

    /// The server's acceptance, or why this attempt failed.
    public func attempt(_ job: DeliveryJob) async -> Result<SMTPReceipt, DeliveryError> {
        do {
            return .success(try await send(job))
        } catch {
            return .failure(error)
        }
    }

    private func send(_ job: DeliveryJob) async throws(DeliveryError) -> SMTPReceipt {
        let remaining = Duration.seconds(job.deadline.timeIntervalSince(now()).rounded(.down))
        guard remaining >= LinkLifetime.minimumAtSend, let lifetime = KratosDuration(remaining) else {
            throw DeliveryError(
                errorClass: .permanent,
                failure: .expired,
                source: "gateway",
                message: "the link's lifetime has passed"
            )
        }
        // The identity is fetched only for a template that prints it; a deleted identity shows
        // anyway, as Kratos refuses to create its link or code.
        var traits: JSONValue = .object([:])
        let secret: (url: String, code: String?, expiresAt: Date)
        do {
            if templates.usesIdentity(job.template) {
                traits = try await issuer.identity(id: job.identityID).traits
            }
            switch job.method {
            case .link:
                let link = try await issuer.createRecoveryLink(identityID: job.identityID, expiresIn: lifetime)
                secret = (link.url, nil, link.expiresAt)
            case .code:
                let code = try await issuer.createRecoveryCode(identityID: job.identityID, expiresIn: lifetime)
                secret = (code.url, code.code, code.expiresAt)
            }
        } catch {
            throw DeliveryError(error)
        }
        let minutes = max(1, Int((secret.expiresAt.timeIntervalSince(now()) / 60).rounded()))
        let data = TemplateData(
            to: job.recipient.description,
            recoveryURL: secret.url,
            recoveryCode: secret.code,
            identityID: job.identityID,
            traits: traits,
            expiresInMinutes: minutes,
            transientPayload: job.transientPayload ?? .object([:])
        )
        let rendered: RenderedEmail
        let message: EmailMessage
        do {
            rendered = try templates.render(job.template, locale: job.locale, method: job.method, data: data)
            message = try EmailMessage(
                from: from,
                to: Mailbox(address: job.recipient),
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
                messageID: job.messageID,
                date: now()
            )
        } catch let error as TemplateError {
            throw DeliveryError(error)
        } catch {
            throw DeliveryError(errorClass: .configuration, source: "template", message: "\(error)")
        }
        do {
            return try await mail.send(message)
        } catch {
            throw DeliveryError(error)
        }
    }
}

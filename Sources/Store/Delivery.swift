import DeliveryVocabulary
import Foundation
import JSONValue

/// One row of the outbox: an email to send, what it carries, and how far it got.
///
/// Decoded once, by the store's row decoder, into domain values: a row whose recipient, Message-ID,
/// method, template type or transient payload cannot be read back is a `corruptRow` when it is
/// read, not a failure at send time. Holds the full recipient address (needed to send) but never a
/// link, code or key in clear: a courier message's link or code is only in its sealed document.
public struct Delivery: Sendable, Hashable {
    public var id: UUID
    public var status: DeliveryStatus
    public var failure: DeliveryFailure?
    /// The full address; never goes to the audit log or logs (use the masked form there).
    public var recipient: EmailAddress
    /// What the email is made of: a recovery the gateway asks Kratos for, or a courier message.
    public var content: DeliveryContent
    /// Never sent after this instant (the link would have expired).
    public var deadline: Date
    public var reason: String?
    /// The same `Message-ID` for every attempt.
    public var messageID: MessageID
    /// API key name, or `system`.
    public var actor: String
    public var requestID: String?
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var leaseExpiresAt: Date?
    public var lastErrorClass: ErrorClass?
    /// Sanitized error text (never a secret).
    public var lastError: String?
    public var smtpReply: String?
    public var createdAt: Date
    public var sentAt: Date?

    public init(
        id: UUID,
        status: DeliveryStatus,
        failure: DeliveryFailure? = nil,
        recipient: EmailAddress,
        content: DeliveryContent,
        deadline: Date,
        reason: String? = nil,
        messageID: MessageID,
        actor: String,
        requestID: String? = nil,
        attempts: Int = 0,
        nextAttemptAt: Date? = nil,
        leaseExpiresAt: Date? = nil,
        lastErrorClass: ErrorClass? = nil,
        lastError: String? = nil,
        smtpReply: String? = nil,
        createdAt: Date,
        sentAt: Date? = nil
    ) {
        self.id = id
        self.status = status
        self.failure = failure
        self.recipient = recipient
        self.content = content
        self.deadline = deadline
        self.reason = reason
        self.messageID = messageID
        self.actor = actor
        self.requestID = requestID
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.leaseExpiresAt = leaseExpiresAt
        self.lastErrorClass = lastErrorClass
        self.lastError = lastError
        self.smtpReply = smtpReply
        self.createdAt = createdAt
        self.sentAt = sentAt
    }
}

/// What a delivery sends: one case per source of emails, each with what composing it needs.
public enum DeliveryContent: Sendable, Hashable {
    /// `POST /v1/recovery-emails` (and batches): the gateway creates the link or code at Kratos at
    /// each attempt and renders its own template.
    case recovery(RecoveryOrder)
    /// `POST /v1/courier/kratos`: Kratos made the message; it waits sealed in the row.
    case courier(SealedCourierMessage)
}

/// A recovery email as the caller asked for it.
public struct RecoveryOrder: Sendable, Hashable {
    public var identityID: UUID
    public var method: RecoveryMethod
    /// The recovery template's name.
    public var template: String
    public var locale: String?
    /// The Kratos duration asked for (e.g. `1h`), as given; the delivery's deadline is its end.
    public var expiresIn: String
    /// The caller's transient payload, handed to the template.
    public var transientPayload: JSONValue?

    public init(
        identityID: UUID,
        method: RecoveryMethod,
        template: String,
        locale: String? = nil,
        expiresIn: String,
        transientPayload: JSONValue? = nil
    ) {
        self.identityID = identityID
        self.method = method
        self.template = template
        self.locale = locale
        self.expiresIn = expiresIn
        self.transientPayload = transientPayload
    }
}

/// A message of Kratos's courier, stored sealed (AES-256-GCM, bound to the delivery's id).
public struct SealedCourierMessage: Sendable, Hashable {
    /// The identity, when the document names one (not for registration or `*_invalid` types).
    public var identityID: UUID?
    public var templateType: CourierTemplateType
    /// The locale the message was composed in at receipt.
    public var locale: String?
    /// The lifetime given at receipt, in minutes (`15m`).
    public var expiresIn: String
    /// The document, sealed; `nil` once the delivery is final (dropped with its secret).
    public var sealed: Data?

    public init(
        identityID: UUID?,
        templateType: CourierTemplateType,
        locale: String?,
        expiresIn: String,
        sealed: Data?
    ) {
        self.identityID = identityID
        self.templateType = templateType
        self.locale = locale
        self.expiresIn = expiresIn
        self.sealed = sealed
    }

    /// Link or code, by the type's secret; `nil` for a `*_invalid` type.
    public var method: RecoveryMethod? {
        templateType.secretKey.map { $0.hasSuffix("_url") ? .link : .code }
    }
}

extension Delivery {
    /// Where the delivery came from (the `source` column, the API's `source`).
    public var source: DeliverySource {
        switch content {
        case .recovery: .adminAPI
        case .courier: .kratosCourier
        }
    }

    /// The identity it goes to; `nil` for a courier message without one.
    public var identityID: UUID? {
        switch content {
        case .recovery(let order): order.identityID
        case .courier(let message): message.identityID
        }
    }

    /// Link or code; `nil` for a courier message of a `*_invalid` type.
    public var method: RecoveryMethod? {
        switch content {
        case .recovery(let order): order.method
        case .courier(let message): message.method
        }
    }

    /// The recovery template's name; `nil` for a courier message (its template type decides).
    public var template: String? {
        if case .recovery(let order) = content { order.template } else { nil }
    }

    /// The Kratos courier template type; `nil` for a recovery order.
    public var templateType: CourierTemplateType? {
        if case .courier(let message) = content { message.templateType } else { nil }
    }

    public var locale: String? {
        switch content {
        case .recovery(let order): order.locale
        case .courier(let message): message.locale
        }
    }

    /// The lifetime asked for, as given (Kratos's duration syntax).
    public var expiresIn: String {
        switch content {
        case .recovery(let order): order.expiresIn
        case .courier(let message): message.expiresIn
        }
    }
}

extension [Delivery] {
    /// Oldest first, ties by id: the order in which `leaseDue` answers.
    package func inLeaseOrder() -> [Delivery] {
        sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }
}

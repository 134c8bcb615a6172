import Foundation

/// One row of the outbox: an email to send, and how far it got.
///
/// Holds the full recipient address (needed to send) but never a link, code or key in clear: a
/// courier message's link or code is only in ``sealedPayload``, encrypted, until a final state.
public struct DeliveryRecord: Sendable, Hashable {
    public var id: UUID
    public var status: DeliveryStatus
    public var failure: DeliveryFailure?
    /// The identity; `nil` for a courier message without one (registration, `*_invalid`, flat body).
    public var identityID: UUID?
    /// The full address; never goes to the audit log or logs (use the masked form there).
    public var recipient: String
    /// Link or code; `nil` for a courier message of a `*_invalid` type.
    public var method: DeliveryMethod?
    /// The recovery template's name; `nil` for a courier message (its template type decides).
    public var template: String?
    public var source: DeliverySource
    /// The Kratos courier template type (`recovery_code_valid`, …); `nil` for `admin_api`.
    public var templateType: String?
    /// The courier message, sealed (AES-256-GCM) for this row; dropped at a final state.
    public var sealedPayload: Data?
    public var locale: String?
    /// The Kratos duration asked for (e.g. `1h`), as given.
    public var expiresIn: String
    /// Never sent after this instant (the link would have expired).
    public var deadline: Date
    public var reason: String?
    /// The caller's transient payload, JSON text.
    public var transientPayload: String?
    /// The same `Message-ID` for every attempt.
    public var messageID: String
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
        identityID: UUID?,
        recipient: String,
        method: DeliveryMethod?,
        template: String?,
        source: DeliverySource = .adminAPI,
        templateType: String? = nil,
        sealedPayload: Data? = nil,
        locale: String? = nil,
        expiresIn: String,
        deadline: Date,
        reason: String? = nil,
        transientPayload: String? = nil,
        messageID: String,
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
        self.identityID = identityID
        self.recipient = recipient
        self.method = method
        self.template = template
        self.source = source
        self.templateType = templateType
        self.sealedPayload = sealedPayload
        self.locale = locale
        self.expiresIn = expiresIn
        self.deadline = deadline
        self.reason = reason
        self.transientPayload = transientPayload
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

extension [DeliveryRecord] {
    /// Oldest first, ties by id: the order in which `leaseDue` answers.
    package func inLeaseOrder() -> [DeliveryRecord] {
        sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
    }
}

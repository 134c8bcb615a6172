import Audit
import CourierInbox
import Foundation
import JSONValue
import Mail
import Store
import Templates
import UUIDText

/// Why a message posted by Kratos's courier was refused. Nothing is stored for any of them.
public enum CourierRefusal: Error, Sendable, Equatable {
    /// The document can never be sent; the error names the member at fault.
    case invalid(CourierMessageError)
    /// The gateway's template for the type cannot render this message (the operator's to fix).
    case template(TemplateError)
    /// The intake queued nothing: the store failed. (A message's idempotency claim is its dedup
    /// key, for which the request hash is the key itself, and has no cooldown.)
    case intake(IntakeRefusal)
    /// The key posts too fast, or (`field` `recipient`) too many messages go to one address.
    case rateLimited(retryAfter: Duration, field: String?)
}

/// Receives the messages of Kratos's HTTP courier (`POST /v1/courier/kratos`): checks the document,
/// composes it once (a message that cannot be composed is refused now, not failed later), and stores
/// it sealed, through the ``DeliveryIntake``, with its dedup key as the idempotency claim and its
/// `email.requested` event in one transaction. The same message posted again (Kratos retries after
/// a timeout) is answered as a replay of the first and stores nothing.
public struct CourierReceiver: Sendable {
    let settings: GatewaySettings
    let composer: CourierComposer
    let payloadKey: CourierPayloadKey
    let deduplicator: CourierDeduplicator
    let chain: AuditChain
    let intake: DeliveryIntake
    /// The lifetime of a message whose document gives none.
    let maxAge: Duration
    /// How long a message is remembered as posted.
    let dedupRetention: Duration
    let metrics: GatewayMetrics
    let now: @Sendable () -> Date
    /// Where the message's links may point.
    let links: CourierLinkPolicy
    let limits: CourierLimits

    /// - Parameters:
    ///   - maxAge: the lifetime of a message whose document has no `expires_in_minutes`.
    ///   - dedupRetention: how long a message is recognized when posted again.
    ///   - links: where the links of a message may point (Kratos's own origins).
    ///   - limits: the per-key and per-recipient rate limits.
    ///   - signal: nudged for each message queued (the delivery worker's).
    public init(
        settings: GatewaySettings,
        store: any AcceptStore,
        composer: CourierComposer,
        payloadKey: CourierPayloadKey,
        deduplicator: CourierDeduplicator,
        chain: AuditChain,
        maxAge: Duration,
        dedupRetention: Duration,
        links: CourierLinkPolicy,
        limits: CourierLimits,
        signal: DeliverySignal,
        metrics: GatewayMetrics = .disabled,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.links = links
        self.limits = limits
        self.settings = settings
        self.composer = composer
        self.payloadKey = payloadKey
        self.deduplicator = deduplicator
        self.chain = chain
        self.intake = DeliveryIntake(store: store, signal: signal, metrics: metrics)
        self.maxAge = maxAge
        self.dedupRetention = dedupRetention
        self.metrics = metrics
        self.now = now
    }

    /// The idempotency records of courier messages are kept under this prefix and the key's name.
    static let dedupNamespace = "kratos_courier:"

    /// Stores the message in `json` posted by `caller`: the queued delivery, or (`replayed`) the
    /// one a message posted before queued.
    public func receive(json: Data, caller: Caller) async throws(CourierRefusal) -> IntakeAnswer {
        let receivedAt = now()
        if let wait = limits.perKey.take(caller.name, now: receivedAt) {
            count("unknown", "rate_limited")
            throw .rateLimited(retryAfter: wait, field: nil)
        }
        let message: KratosCourierMessage
        do {
            message = try KratosCourierMessage(json: json)
        } catch {
            count("unknown", "refused")
            throw .invalid(error)
        }
        let type = message.templateType.rawValue
        do {
            return try await receive(message, caller: caller, receivedAt: receivedAt)
        } catch {
            switch error {
            case .intake: break
            case .rateLimited: count(type, "rate_limited")
            default: count(type, "refused")
            }
            throw error
        }
    }

    private func receive(
        _ message: KratosCourierMessage,
        caller: Caller,
        receivedAt: Date
    ) async throws(CourierRefusal) -> IntakeAnswer {
        let type = message.templateType
        let recipient: EmailAddress
        do {
            recipient = try EmailAddress(message.recipient)
        } catch {
            throw .invalid(
                CourierMessageError(.invalid, field: "recipient", "is not an address the gateway can send to")
            )
        }
        let email: CourierEmail
        do {
            email = try composer.compose(message)
        } catch {
            switch error {
            case .message(let problem): throw .invalid(problem)
            case .template(let problem): throw .template(problem)
            }
        }
        do {
            try links.check(message, source: email.source)
        } catch {
            throw .invalid(error)
        }
        let lifetime = message.expiresInMinutes.map { Duration.seconds($0 * 60) } ?? maxAge
        let deadline = receivedAt.addingTimeInterval(lifetime / .seconds(1))
        // A 2xx must be sendable: the first attempt needs the sender's minimum lifetime left.
        guard lifetime >= LinkLifetime.minimumAtSend else {
            throw .invalid(
                CourierMessageError(
                    .invalid,
                    field: "template_data.expires_in_minutes",
                    "the message expires before it could be sent (at least 1 minute is needed)"
                )
            )
        }

        let keys = deduplicator.keys(for: message, receivedAt: receivedAt)
        let apiKeyID = Self.dedupNamespace + caller.name
        // `*_invalid`: the same message in the previous time bucket is a repost too.
        for key in keys.lookup where key != keys.current {
            let earlier = try await intakeCall { () async throws(IntakeRefusal) in
                try await intake.earlier(apiKeyID: apiKeyID, key: key, requestHash: key, now: receivedAt)
            }
            if let earlier { return counted(earlier, type) }
        }
        // A repost from the previous time bucket was answered above and takes nothing; one of the
        // current bucket (answered by the store's accept) takes a token like a new message.
        if let wait = limits.perRecipient.take(recipient.description.lowercased(), now: receivedAt) {
            throw .rateLimited(retryAfter: wait, field: "recipient")
        }

        let id = UUID()
        let identityID = message.templateData["identity"]?["id"]?.stringValue.flatMap(UUID.init(text:))
        let record = Delivery(
            id: id,
            status: .queued,
            recipient: recipient,
            content: .courier(
                SealedCourierMessage(
                    identityID: identityID,
                    templateType: type,
                    locale: email.contentLanguage,
                    expiresIn: "\(Int(lifetime / .seconds(60)))m",
                    sealed: payloadKey.seal(message, context: id.uuidString)
                )
            ),
            deadline: deadline,
            messageID: MessageID.generate(domain: settings.from.address.domain),
            actor: caller.name,
            requestID: caller.requestID,
            nextAttemptAt: receivedAt,
            createdAt: receivedAt
        )
        let claim = IdempotencyEntry(
            apiKeyID: apiKeyID,
            key: keys.current,
            requestHash: keys.current,
            expiresAt: receivedAt.addingTimeInterval(dedupRetention / .seconds(1))
        )
        let audit = AuditDraft(
            at: receivedAt,
            actor: caller.name,
            sourceIP: caller.sourceIP,
            requestID: caller.requestID,
            action: .emailRequested,
            identityID: identityID,
            recipientHash: chain.recipientHash(recipient.description),
            recipientMasked: AuditChain.mask(recipient.description),
            outcome: "queued",
            details: [
                "source": DeliverySource.kratosCourier.rawValue, "template_type": type.rawValue,
                "shape": message.shape.rawValue, "locale_source": email.source.rawValue,
            ]
        )
        let answer = try await intakeCall { () async throws(IntakeRefusal) in
            try await intake.enqueue(record, claim: claim, cooldown: .zero, audit: audit)
        }
        return counted(answer, type)
    }

    /// `answer`, counted: `accepted`, or `duplicate` for a message posted before.
    private func counted(_ answer: IntakeAnswer, _ type: CourierTemplateType) -> IntakeAnswer {
        count(type.rawValue, answer.replayed ? "duplicate" : "accepted")
        return answer
    }

    private func count(_ type: String, _ result: String) {
        metrics.count(.courierMessages, [("template_type", type), ("result", result)])
    }

    private func intakeCall<T>(_ body: () async throws(IntakeRefusal) -> T) async throws(CourierRefusal) -> T {
        do {
            return try await body()
        } catch {
            throw .intake(error)
        }
    }
}

import Audit
import Crypto
import Foundation
import JSONValue
import Kratos
import Mail
import Store
import Templates
import UUIDText

/// Why a request for a recovery email was refused. Nothing is stored for any of them.
public enum AcceptRefusal: Error, Sendable, Equatable {
    case invalid(RequestError)
    case rateLimited(retryAfter: Duration)
    case identityNotFound
    case identityAmbiguous
    case noRecoveryAddress
    case recipientNotAllowed
    case cooldown(retryAfter: Date)
    case keyReused
    /// Kratos did not answer usefully; `reason` (Kratos's error text, never a secret) is for the
    /// operator's log, not for the caller.
    case kratosUnavailable(retryAfter: Duration?, reason: String)
    /// The store failed; the error (which names no secret) is for the operator's log.
    case storeUnavailable(StoreError)
}

extension AcceptRefusal {
    /// The intake's refusal as a refusal of the request.
    public init(_ refusal: IntakeRefusal) {
        switch refusal {
        case .keyReused: self = .keyReused
        case .cooldown(let retryAfter): self = .cooldown(retryAfter: retryAfter)
        case .storeUnavailable(let error): self = .storeUnavailable(error)
        }
    }
}

/// Accepts requests for recovery emails: checks them, resolves the identity and the recipient
/// at Kratos, and hands the delivery with its idempotency claim and audit event to the
/// ``DeliveryIntake`` (one transaction). Answers once the delivery is durable.
public struct AcceptService: Sendable {
    let settings: GatewaySettings
    let store: any AcceptStore
    let kratos: MeasuredKratos
    let templates: TemplateCatalog
    let chain: AuditChain
    /// The per-key limit on sends; the console's identity lookups take from it too.
    public let rateLimiter: RateLimiter
    /// Where the Kratos calls and the accept's phases are timed (the routes time theirs here too).
    public let metrics: GatewayMetrics
    let intake: DeliveryIntake
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - signal: nudged for each delivery queued (the delivery worker's).
    ///   - metrics: where the Kratos calls are timed, among the gateway's other figures.
    public init(
        settings: GatewaySettings,
        store: any AcceptStore,
        kratos: KratosClient,
        templates: TemplateCatalog,
        chain: AuditChain,
        signal: DeliverySignal,
        metrics: GatewayMetrics = .disabled,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.metrics = metrics
        self.intake = DeliveryIntake(store: store, signal: signal, metrics: metrics)
        self.settings = settings
        self.store = store
        self.kratos = MeasuredKratos(kratos, metrics: metrics)
        self.templates = templates
        self.chain = chain
        self.rateLimiter = RateLimiter(rate: settings.ratePerKey, burst: settings.burstPerKey)
        self.now = now
    }

    /// Accepts `body` (the decoded JSON) under `idempotencyKey` for `caller`. With `received` (when
    /// the request arrived), the time until its body is parsed and hashed is timed as its
    /// ``AcceptPhase/readParse``.
    public func accept(
        body: JSONValue,
        idempotencyKey: String,
        caller: Caller,
        received: ContinuousClock.Instant? = nil
    ) async throws(AcceptRefusal) -> IntakeAnswer {
        let request: RecoveryEmailRequest
        do {
            request = try RecoveryEmailRequest(json: body)
        } catch {
            throw .invalid(error)
        }
        let requestHash = Self.hash(body)
        if let received { metrics.time(.readParse, .now - received) }
        return try await accept(request, requestHash: requestHash, idempotencyKey: idempotencyKey, caller: caller)
    }

    /// Accepts `request`, a value made by its caller (the console's send form), under
    /// `idempotencyKey` for `caller`; the key's claim keeps the request's fingerprint.
    public func accept(
        _ request: RecoveryEmailRequest,
        idempotencyKey: String,
        caller: Caller
    ) async throws(AcceptRefusal) -> IntakeAnswer {
        try await accept(request, requestHash: request.fingerprint, idempotencyKey: idempotencyKey, caller: caller)
    }

    /// Accepts `request` (hashed `requestHash`) under `idempotencyKey` for `caller`. An item of the
    /// batch `batch` takes no token of the key's rate limit (the batch has its own pace), and its
    /// `email.requested` event names the batch (`batch_id`).
    func accept(
        _ request: RecoveryEmailRequest,
        requestHash: String,
        idempotencyKey: String,
        caller: Caller,
        batch: UUID? = nil
    ) async throws(AcceptRefusal) -> IntakeAnswer {
        let started = now()
        var mark = ContinuousClock.now
        // A retried request gets its first answer again even while Kratos is down.
        let earlier = try await intakeCall { () async throws(IntakeRefusal) in
            try await intake.earlier(apiKeyID: caller.name, key: idempotencyKey, requestHash: requestHash, now: started)
        }
        mark = lap(.idempotencyRead, since: mark)
        if let earlier { return earlier }
        if batch == nil {
            let wait = rateLimiter.take(caller.name, now: started)
            mark = lap(.rateLimit, since: mark)
            if let wait { throw .rateLimited(retryAfter: wait) }
        }

        let (method, template) = try methodAndTemplate(request)
        mark = ContinuousClock.now
        let identity: Identity
        do {
            identity = try await resolveIdentity(request.target)
            _ = lap(.kratosLookup, since: mark)
        } catch {
            _ = lap(.kratosLookup, since: mark)
            throw error
        }
        let (recipient, override): (EmailAddress, override: Bool)
        do {
            (recipient, override) = try resolveRecipient(request, identity: identity, caller: caller)
        } catch {
            if error == .recipientNotAllowed, let asked = request.recipient {
                await refuse(
                    caller: caller,
                    identity: UUID(text: identity.id),
                    recipient: asked,
                    outcome: "recipient_not_allowed"
                )
            }
            throw error
        }

        guard let identityID = UUID(text: identity.id) else {
            throw .kratosUnavailable(retryAfter: nil, reason: "Kratos answered an identity id that is not a UUID")
        }
        let expiresIn = request.expiresIn ?? settings.defaultExpiresIn
        let id = UUID()
        let record = Delivery(
            id: id,
            status: .queued,
            recipient: recipient,
            content: .recovery(
                RecoveryOrder(
                    identityID: identityID,
                    method: method,
                    template: template,
                    locale: request.locale?.description,
                    expiresIn: expiresIn.description,
                    transientPayload: request.transientPayload
                )
            ),
            deadline: started.addingTimeInterval(expiresIn.duration / .seconds(1)),
            reason: request.reason,
            messageID: MessageID.generate(domain: settings.from.address.domain),
            actor: caller.name,
            requestID: caller.requestID,
            nextAttemptAt: started,
            createdAt: started
        )
        var details = ["method": method.rawValue, "template": template, "expires_in": expiresIn.description]
        if let reason = request.reason { details["reason"] = AuditChain.maskingAddresses(in: reason) }
        if override { details["recipient_override"] = "true" }
        if let batch { details["batch_id"] = batch.lowercasedString }
        let claim = IdempotencyEntry(
            apiKeyID: caller.name,
            key: idempotencyKey,
            requestHash: requestHash,
            expiresAt: started.addingTimeInterval(settings.idempotencyWindow / .seconds(1))
        )
        let audit = draft(
            .emailRequested,
            caller: caller,
            identity: record.identityID,
            recipient: recipient,
            outcome: "queued",
            details: details
        )
        do {
            return try await intake.enqueue(record, claim: claim, cooldown: settings.cooldown, audit: audit)
        } catch {
            if case .cooldown = error {
                await refuse(caller: caller, identity: record.identityID, recipient: recipient, outcome: "cooldown")
            }
            throw AcceptRefusal(error)
        }
    }

    /// The method and template `request` asks for (or the defaults), checked against the catalog.
    func methodAndTemplate(_ request: RecoveryEmailRequest) throws(AcceptRefusal) -> (RecoveryMethod, String) {
        let method = request.method ?? settings.defaultMethod
        let template = request.template ?? settings.defaultTemplate(for: method)
        do {
            try templates.validate(name: template, locale: request.locale?.description, method: method)
        } catch {
            let field = error.kind == .invalidLocale ? "locale" : "template"
            throw .invalid(RequestError(field: field, message: error.message))
        }
        return (method, template)
    }

    /// The identity by id, or the one that logs in with the email.
    func resolveIdentity(_ target: RecoveryEmailRequest.Target) async throws(AcceptRefusal) -> Identity {
        do {
            switch target {
            case .identityID(let id):
                return try await kratos.identity(id: id)
            case .email(let email):
                let found = try await kratos.identities(credentialsIdentifier: email.description)
                guard let first = found.first else { throw AcceptRefusal.identityNotFound }
                guard found.allSatisfy({ $0.id == first.id }) else { throw AcceptRefusal.identityAmbiguous }
                return first
            }
        } catch let refusal as AcceptRefusal {
            throw refusal
        } catch let error as KratosError {
            switch error.kind {
            case .identityNotFound: throw .identityNotFound
            case .transient: throw .kratosUnavailable(retryAfter: error.retryAfter, reason: error.description)
            case .badRequest, .unauthorized: throw .kratosUnavailable(retryAfter: nil, reason: error.description)
            }
        } catch {
            throw .kratosUnavailable(retryAfter: nil, reason: "\(type(of: error))")
        }
    }

    /// The identity's own email recovery address (the one asked for, the login email, or the
    /// first), or — with `recovery:send:any-recipient` only — the address the caller gave.
    func resolveRecipient(
        _ request: RecoveryEmailRequest,
        identity: Identity,
        caller: Caller
    ) throws(AcceptRefusal) -> (EmailAddress, override: Bool) {
        let own = identity.emailRecoveryAddresses.compactMap { try? EmailAddress($0.value) }
        func isOwn(_ address: EmailAddress) -> Bool {
            own.contains { $0.description.lowercased() == address.description.lowercased() }
        }
        if let asked = request.recipient {
            if isOwn(asked) { return (asked, false) }
            guard caller.scopes.contains(.sendAnyRecipient) else { throw .recipientNotAllowed }
            return (asked, true)
        }
        if case .email(let login) = request.target, isOwn(login) { return (login, false) }
        guard let first = own.first else { throw .noRecoveryAddress }
        return (first, false)
    }

    /// Records a refusal worth keeping (a foreign recipient, a cooldown) in the audit log.
    private func refuse(caller: Caller, identity: UUID?, recipient: EmailAddress, outcome: String) async {
        _ = try? await store.appendAudit(
            draft(.emailRefused, caller: caller, identity: identity, recipient: recipient, outcome: outcome)
        )
    }

    private func draft(
        _ action: AuditAction,
        caller: Caller,
        identity: UUID?,
        recipient: EmailAddress,
        outcome: String,
        details: [String: String] = [:]
    ) -> AuditDraft {
        AuditDraft(
            at: now(),
            actor: caller.name,
            sourceIP: caller.sourceIP,
            requestID: caller.requestID,
            action: action,
            identityID: identity,
            recipientHash: chain.recipientHash(recipient.description),
            recipientMasked: AuditChain.mask(recipient.description),
            outcome: outcome,
            details: details
        )
    }

    /// Times `phase` from `mark` until now, and answers now (the next phase's mark).
    private func lap(_ phase: AcceptPhase, since mark: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        metrics.time(phase, now - mark)
        return now
    }

    func storeCall<T>(_ body: () async throws(StoreError) -> T) async throws(AcceptRefusal) -> T {
        do {
            return try await body()
        } catch {
            throw .storeUnavailable(error)
        }
    }

    private func intakeCall<T>(_ body: () async throws(IntakeRefusal) -> T) async throws(AcceptRefusal) -> T {
        do {
            return try await body()
        } catch {
            throw AcceptRefusal(error)
        }
    }

    /// SHA-256 of the body as canonical JSON (sorted keys): the same request in another layout is
    /// still the same request.
    static func hash(_ body: JSONValue) -> String {
        let data = (try? canonicalEncoder.encode(body)) ?? Data()
        return Hex.encode(SHA256.hash(data: data))
    }

    /// The encoder of ``hash(_:)``, made once.
    private static let canonicalEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}

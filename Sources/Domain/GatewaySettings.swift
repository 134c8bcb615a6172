import Kratos
import Mail
import Templates

/// The settings of the domain, taken from the configuration file. Every delivery default has one
/// home, the configuration's (`DeliverySettings.defaults`, which `config/gateway.yaml` documents):
/// nothing here defaults a setting.
public struct GatewaySettings: Sendable {
    /// The sender of every email (`smtp.from_address`, `smtp.from_name`).
    public var from: Mailbox
    /// `delivery.default_method`.
    public var defaultMethod: RecoveryMethod
    /// The template a request without `template` gets, per method.
    public var linkTemplate: String
    public var codeTemplate: String
    /// `delivery.expires_in`: the link lifetime a request without `expires_in` gets.
    public var defaultExpiresIn: KratosDuration
    /// `delivery.cooldown`: the same identity and recipient again within this, under another key, is refused.
    public var cooldown: Duration
    /// `delivery.idempotency_window`: how long an idempotency key is remembered.
    public var idempotencyWindow: Duration
    /// `delivery.rate_per_key` and `delivery.burst_per_key`.
    public var ratePerKey: Double
    public var burstPerKey: Int
    /// `delivery.lease`: a `sending` delivery older than this is taken back after a crash.
    public var lease: Duration
    /// `delivery.workers`: deliveries in flight at once.
    public var workers: Int
    /// `delivery.max_attempts`, `delivery.backoff_initial`, `delivery.backoff_max`.
    public var retry: RetryPolicy
    /// `delivery.batch_rate`: a batch's pace when it asks for none, items accepted per second.
    public var batchRate: Int

    public init(
        from: Mailbox,
        defaultMethod: RecoveryMethod,
        linkTemplate: String = "recovery",
        codeTemplate: String = "recovery_code",
        defaultExpiresIn: KratosDuration,
        cooldown: Duration,
        idempotencyWindow: Duration,
        ratePerKey: Double,
        burstPerKey: Int,
        lease: Duration,
        workers: Int,
        retry: RetryPolicy,
        batchRate: Int
    ) {
        self.from = from
        self.defaultMethod = defaultMethod
        self.linkTemplate = linkTemplate
        self.codeTemplate = codeTemplate
        self.defaultExpiresIn = defaultExpiresIn
        self.cooldown = cooldown
        self.idempotencyWindow = idempotencyWindow
        self.ratePerKey = ratePerKey
        self.burstPerKey = burstPerKey
        self.lease = lease
        self.workers = workers
        self.retry = retry
        self.batchRate = batchRate
    }

    /// The template a request without one uses for `method`.
    public func defaultTemplate(for method: RecoveryMethod) -> String {
        method == .link ? linkTemplate : codeTemplate
    }
}

import Domain
import Templates

/// `delivery`: what a request defaults to, how deliveries are retried, and how fast one API key may send.
public struct DeliverySettings: Sendable, Equatable, Decodable {
    /// The method when a request names none.
    public var defaultMethod: RecoveryMethod
    /// How long a link or code stays valid when a request names no `expires_in`; in the range
    /// `LinkLifetime` allows a request.
    public var expiresIn: Duration
    /// The pause required between two sends to one identity and recipient; zero turns it off.
    public var cooldown: Duration
    /// Attempts before a delivery fails with `attempts_exhausted`, 1-100.
    public var maxAttempts: Int
    /// The first retry delay; it doubles per attempt, with jitter.
    public var backoffInitial: Duration
    /// The longest retry delay.
    public var backoffMax: Duration
    /// How long a `sending` row is held before a crash is assumed and it is taken back.
    public var lease: Duration
    /// Delivery workers running at once, 1-256.
    public var workers: Int
    /// Requests per second one API key may make on average.
    public var ratePerKey: Double
    /// Requests one API key may make in a burst above the average.
    public var burstPerKey: Int
    /// How long an `Idempotency-Key` is remembered.
    public var idempotencyWindow: Duration
    /// A batch's pace when it asks for none, in emails per second (`RecoveryBatch.rates`).
    public var batchRate = 50

    /// The documented defaults (`config/gateway.yaml`): link, 1h, 60s cooldown, 8 attempts, 2s…5m backoff, 60s lease, 32 workers,
    /// 10 requests/s per key with bursts of 20, 24h idempotency window.
    public static let defaults = DeliverySettings(
        defaultMethod: .link,
        expiresIn: .seconds(3_600),
        cooldown: .seconds(60),
        maxAttempts: 8,
        backoffInitial: .seconds(2),
        backoffMax: .seconds(300),
        lease: .seconds(60),
        workers: 32,
        ratePerKey: 10,
        burstPerKey: 20,
        idempotencyWindow: .seconds(86_400)
    )

    /// Builds the settings as given.
    public init(
        defaultMethod: RecoveryMethod,
        expiresIn: Duration,
        cooldown: Duration,
        maxAttempts: Int,
        backoffInitial: Duration,
        backoffMax: Duration,
        lease: Duration,
        workers: Int,
        ratePerKey: Double,
        burstPerKey: Int,
        idempotencyWindow: Duration
    ) {
        self.defaultMethod = defaultMethod
        self.expiresIn = expiresIn
        self.cooldown = cooldown
        self.maxAttempts = maxAttempts
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
        self.lease = lease
        self.workers = workers
        self.ratePerKey = ratePerKey
        self.burstPerKey = burstPerKey
        self.idempotencyWindow = idempotencyWindow
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.delivery)
        let defaults = Self.defaults
        let method = try reader.choice(
            "default_method",
            RecoveryMethod.allCases.map(\.rawValue),
            default: defaults.defaultMethod.rawValue
        )
        defaultMethod = RecoveryMethod(rawValue: method) ?? .link
        expiresIn = try reader.duration("expires_in", default: defaults.expiresIn)
        guard LinkLifetime.isAccepted(expiresIn) else {
            throw reader.error("expires_in", "must be \(LinkLifetime.acceptedRange)")
        }
        cooldown = try reader.duration("cooldown", allowZero: true, default: defaults.cooldown)
        maxAttempts = try reader.int("max_attempts", in: 1...100, default: defaults.maxAttempts)
        backoffInitial = try reader.duration("backoff_initial", default: defaults.backoffInitial)
        backoffMax = try reader.duration("backoff_max", default: defaults.backoffMax)
        guard backoffMax >= backoffInitial else {
            throw reader.error("backoff_max", "must not be shorter than \(reader.keyPath("backoff_initial"))")
        }
        lease = try reader.duration("lease", default: defaults.lease)
        workers = try reader.int("workers", in: 1...256, default: defaults.workers)
        ratePerKey = try reader.positiveNumber("rate_per_key", maximum: 1_000_000, default: defaults.ratePerKey)
        burstPerKey = try reader.int("burst_per_key", in: 1...1_000_000, default: defaults.burstPerKey)
        idempotencyWindow = try reader.duration("idempotency_window", default: defaults.idempotencyWindow)
        batchRate = try reader.int("batch_rate", in: RecoveryBatch.rates, default: defaults.batchRate)
    }
}

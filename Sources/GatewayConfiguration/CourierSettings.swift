import CourierInbox
import Foundation
import KeyFile

/// `courier`: the receiver of Kratos's HTTP courier (`POST /v1/courier/kratos`): the key that seals
/// its messages at rest, where a message's locale is looked up, and how long duplicates are recognized.
public struct CourierSettings: Sendable, Equatable, Decodable {
    /// The 32-byte key sealing courier messages in the store (and deriving the dedup key): read if it
    /// exists, created (mode 0600) by ``resolvePayloadKey(createIfMissing:)`` if not.
    public var payloadKeyFile: String
    /// Where a message's locale is looked up (`locale_paths`: dotted paths into Kratos's document).
    public var localePolicy: CourierLocalePolicy
    /// How close together two identical `*_invalid` messages are taken for one.
    public var invalidDedupWindow: Duration
    /// How long a message is remembered to recognize it posted again.
    public var dedupRetention: Duration
    /// The lifetime of a message whose document gives none (`expires_in_minutes`): never sent after it.
    public var maxAge: Duration
    /// The largest body accepted (identity documents can be large); more is refused with 413.
    public var maxBodyBytes: Int
    /// Where the links of a message may point (`allowed_link_origins`); nil when not set (or
    /// empty), and then the origin of `kratos.public_url` (``GatewayConfiguration`` fills it in).
    public var allowedLinkOrigins: [LinkOrigin]?
    /// At most this many messages to one address within ``recipientWindow`` (a token bucket that
    /// refills this many per window); more are refused with 429, which Kratos retries later.
    public var recipientLimit: Int
    public var recipientWindow: Duration

    /// `keys/courier-payload.key` (beside the audit keys, not the database), the default locale
    /// paths, 15m, 24h, 1h, 256 KiB, Kratos's public origin, 10 messages to one address an hour.
    public static let defaults = CourierSettings(
        payloadKeyFile: "keys/courier-payload.key",
        // The default paths are valid.
        localePolicy: try! CourierLocalePolicy(),
        invalidDedupWindow: CourierDeduplicator.defaultInvalidWindow,
        dedupRetention: .seconds(86_400),
        maxAge: .seconds(3_600),
        maxBodyBytes: 262_144
    )

    /// Builds the settings as given.
    public init(
        payloadKeyFile: String,
        localePolicy: CourierLocalePolicy,
        invalidDedupWindow: Duration,
        dedupRetention: Duration,
        maxAge: Duration,
        maxBodyBytes: Int,
        allowedLinkOrigins: [LinkOrigin]? = nil,
        recipientLimit: Int = 10,
        recipientWindow: Duration = .seconds(3_600)
    ) {
        self.payloadKeyFile = payloadKeyFile
        self.localePolicy = localePolicy
        self.invalidDedupWindow = invalidDedupWindow
        self.dedupRetention = dedupRetention
        self.maxAge = maxAge
        self.maxBodyBytes = maxBodyBytes
        self.allowedLinkOrigins = allowedLinkOrigins
        self.recipientLimit = recipientLimit
        self.recipientWindow = recipientWindow
    }

    /// Where links may point: ``allowedLinkOrigins`` (none when neither it nor `kratos.public_url`
    /// is set: then every link is refused, and the gateway does not start with a courier key).
    public var linkPolicy: CourierLinkPolicy { CourierLinkPolicy(origins: Set(allowedLinkOrigins ?? [])) }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.courier)
        let defaults = Self.defaults
        payloadKeyFile = try reader.string("payload_key_file", default: defaults.payloadKeyFile)
        if let paths = try reader.textList("locale_paths") {
            do {
                localePolicy = try CourierLocalePolicy(paths: paths)
            } catch {
                throw reader.error("locale_paths[\(paths.firstIndex(of: error.path) ?? 0)]", "\(error)")
            }
        } else {
            localePolicy = defaults.localePolicy
        }
        invalidDedupWindow = try reader.duration("invalid_dedup_window", default: defaults.invalidDedupWindow)
        guard invalidDedupWindow >= .seconds(1), invalidDedupWindow <= .seconds(86_400) else {
            throw reader.error("invalid_dedup_window", "must be from 1s to 24h")
        }
        dedupRetention = try reader.duration("dedup_retention", default: defaults.dedupRetention)
        guard dedupRetention >= invalidDedupWindow * 2 else {
            throw reader.error("dedup_retention", "must be at least twice \(reader.keyPath("invalid_dedup_window"))")
        }
        maxAge = try reader.duration("max_age", default: defaults.maxAge)
        guard maxAge >= .seconds(120), maxAge <= .seconds(168 * 3_600) else {
            throw reader.error("max_age", "must be from 2m to 168h")
        }
        maxBodyBytes = try reader.int("max_body_bytes", in: 1_024...16_777_216, default: defaults.maxBodyBytes)
        // An empty list is no list: the origin of kratos.public_url.
        let origins = try reader.textList("allowed_link_origins") ?? []
        allowedLinkOrigins =
            try origins.isEmpty
            ? nil
            : origins.enumerated().map { index, text in
                guard let origin = LinkOrigin(configured: text) else {
                    throw reader.error(
                        "allowed_link_origins[\(index)]",
                        "must be an origin: an absolute http or https URL without path, user, query or fragment"
                    )
                }
                return origin
            }
        recipientLimit = try reader.int("recipient_limit", in: 1...100_000, default: defaults.recipientLimit)
        recipientWindow = try reader.duration("recipient_window", default: defaults.recipientWindow)
        guard recipientWindow >= .seconds(1), recipientWindow <= .seconds(86_400) else {
            throw reader.error("recipient_window", "must be from 1s to 24h")
        }
    }

    /// The payload key from ``payloadKeyFile``; a missing file is created (mode 0600, with its directory)
    /// holding 32 random bytes when `createIfMissing`, an error naming `courier.payload_key_file` otherwise.
    public func resolvePayloadKey(createIfMissing: Bool) throws(ConfigurationError) -> CourierPayloadKey {
        let file = URL(fileURLWithPath: payloadKeyFile)
        do {
            guard createIfMissing else {
                let bytes = try KeyFile.readPrivate(file: file, byteCount: CourierPayloadKey.byteCount)
                // KeyFile checked the size, so the initializer cannot fail.
                return CourierPayloadKey(bytes: bytes)!
            }
            return try CourierPayloadKey.loadOrCreate(file: file)
        } catch {
            throw ConfigurationError(key: "courier.payload_key_file", problem: error.description)
        }
    }
}

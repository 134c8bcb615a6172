import Courier
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

    /// `keys/courier-payload.key` (beside the audit keys, not the database), the default locale
    /// paths, 15m, 24h, 1h, 256 KiB.
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
        maxBodyBytes: Int
    ) {
        self.payloadKeyFile = payloadKeyFile
        self.localePolicy = localePolicy
        self.invalidDedupWindow = invalidDedupWindow
        self.dedupRetention = dedupRetention
        self.maxAge = maxAge
        self.maxBodyBytes = maxBodyBytes
    }

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

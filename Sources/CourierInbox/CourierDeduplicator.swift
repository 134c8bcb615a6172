import Crypto
import Foundation
import JSONValue
import Templates

/// Recognizes a courier message posted again (Kratos retries after a timeout and sends no message id)
/// by a key derived from its content, an HMAC-SHA256 under a secret key so that the key in the database
/// reveals nothing (a 6-digit code could otherwise be found by trying all of them):
///
/// - `*_valid`: template type, recipient and every secret of the message (the link or code, for
///   `verification_code_valid` both), or, for the codes Kratos's default body drops, the body Kratos
///   rendered, which contains the code. A link or code is unique per message, so no time window is
///   needed; the store keeps the keys for a retention period (part 2), which also keeps an unlikely
///   repeat of a short code for one recipient months later from being taken for a duplicate.
/// - `*_invalid`: template type, recipient, `request_url`, the body and the time bucket
///   `floor(receivedAt / window)`. Two such messages are the same message only close together in time.
///   ``CourierDedupKeys/lookup`` also holds the previous bucket's key, so a repost is recognized at
///   least `window` (at most twice that) after the first post, wherever the bucket boundary falls.
///
/// Each field is length-prefixed (4 bytes, big-endian) after a version label, so no two different
/// field lists give the same input; the key is the base64 of the 32-byte MAC.
public struct CourierDeduplicator: Sendable {
    /// The default window for `*_invalid` messages: longer than Kratos's retries of one message.
    public static let defaultInvalidWindow: Duration = .seconds(15 * 60)

    /// Kept as bytes: swift-crypto's `SymmetricKey` is not `Sendable` on Linux.
    private let key: [UInt8]
    /// The time bucket of `*_invalid` messages, in whole seconds (at least 1).
    public let invalidWindowSeconds: Int64

    /// A deduplicator under `key` (at least 32 bytes, e.g. ``CourierPayloadKey/deduplicationKey``).
    public init(key: [UInt8], invalidWindow: Duration = defaultInvalidWindow) {
        precondition(key.count >= 32, "a deduplication key needs at least 32 bytes")
        self.key = key
        self.invalidWindowSeconds = max(1, invalidWindow.components.seconds)
    }

    /// The keys of `message`, received at `receivedAt`.
    public func keys(for message: KratosCourierMessage, receivedAt: Date) -> CourierDedupKeys {
        let type = message.templateType.rawValue
        guard message.templateType.secretKey == nil else {
            let secrets = message.secrets.isEmpty ? [message.body ?? ""] : message.secrets
            let current = mac(["valid", type, message.recipient] + secrets)
            return CourierDedupKeys(current: current, lookup: [current])
        }
        let bucket = Int64((receivedAt.timeIntervalSince1970 / Double(invalidWindowSeconds)).rounded(.down))
        let fields = [
            "invalid", type, message.recipient, message.templateData["request_url"]?.stringValue ?? "",
            message.body ?? "",
        ]
        let current = mac(fields + [String(bucket)])
        return CourierDedupKeys(current: current, lookup: [current, mac(fields + [String(bucket - 1)])])
    }

    private func mac(_ fields: [String]) -> String {
        var input = Array("recovery-gateway courier dedup v1".utf8)
        for field in fields {
            let bytes = Array(field.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { input += $0 }
            input += bytes
        }
        let code = HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key))
        return Data(code).base64EncodedString()
    }
}

/// The deduplication keys of one message: the one to store with it, and every key whose presence in
/// the store makes it a duplicate.
public struct CourierDedupKeys: Sendable, Equatable {
    /// Stored with the message.
    public let current: String
    /// Looked up: ``current`` and, for `*_invalid`, the previous time bucket's key.
    public let lookup: [String]
}

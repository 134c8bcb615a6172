import Crypto
import Foundation
import JSONValue
import KeyFile

/// The key that seals courier messages at rest (AES-256-GCM): 32 bytes from a file of its own
/// (`courier.payload_key_file`), so that no link, code or token can be read from the database.
public struct CourierPayloadKey: Sendable, CustomStringConvertible {
    /// The key's size in bytes (AES-256).
    public static let byteCount = 32
    /// The first byte of every sealed payload: the format (AES-256-GCM, 12-byte nonce, 16-byte tag).
    static let formatVersion: UInt8 = 1

    /// Kept as bytes: swift-crypto's `SymmetricKey` is not `Sendable` on Linux.
    private let bytes: [UInt8]

    /// A key from exactly ``byteCount`` bytes; `nil` for any other size.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Reads the key file, creating it (mode 0600, random bytes) on first use; refuses a file of another
    /// size, one that others may read, or one its group may do more with than read.
    public static func loadOrCreate(file: URL) throws(KeyFileError) -> CourierPayloadKey {
        let bytes = try KeyFile.loadOrCreate(file: file, byteCount: byteCount)
        // KeyFile checked the size, so the initializer cannot fail.
        return CourierPayloadKey(bytes: bytes)!
    }

    /// A separate key for ``CourierDeduplicator``, derived with HKDF-SHA256, so one file serves both and
    /// neither use weakens the other.
    public var deduplicationKey: [UInt8] {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: bytes),
            info: Array("recovery-gateway courier dedup key v1".utf8),
            outputByteCount: 32
        )
        return derived.withUnsafeBytes { Array($0) }
    }

    /// Seals the message's document for the row `context` (e.g. the delivery id): the context is
    /// authenticated, so a sealed payload moved to another row does not open.
    public func seal(_ message: KratosCourierMessage, context: String) -> Data {
        // Encoding a JSONValue cannot fail: it holds only JSON's own types.
        let plaintext = try! Self.encoder.encode(message.document)
        // AES.GCM.seal throws only for a bad nonce or key size, which cannot happen here.
        let box = try! AES.GCM.seal(plaintext, using: SymmetricKey(data: bytes), authenticating: Self.aad(context))
        return Data([Self.formatVersion]) + box.combined!
    }

    /// Opens what ``seal(_:context:)`` made for `context` and checks the message again.
    public func open(_ sealed: Data, context: String) throws(CourierPayloadError) -> KratosCourierMessage {
        guard sealed.count > 1 + 12 + 16, sealed.first == Self.formatVersion else { throw .malformed }
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            plaintext = try AES.GCM.open(box, using: SymmetricKey(data: bytes), authenticating: Self.aad(context))
        } catch {
            throw .authenticationFailed
        }
        do {
            return try KratosCourierMessage(json: plaintext)
        } catch {
            throw .invalidMessage(error)
        }
    }

    public var description: String { "CourierPayloadKey(redacted)" }

    /// One encoder for every message (building one per call costs more than a small document).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private static func aad(_ context: String) -> [UInt8] {
        Array("recovery-gateway courier payload v1\u{0}".utf8) + Array(context.utf8)
    }
}

/// Why a sealed courier payload could not be opened. Never contains payload or key material.
public enum CourierPayloadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Too short, or an unknown format byte.
    case malformed
    /// Another key, another context, or altered bytes.
    case authenticationFailed
    /// It opened, but is not a message the gateway can send (sealed by another version?).
    case invalidMessage(CourierMessageError)

    public var description: String {
        switch self {
        case .malformed: "the sealed courier payload is malformed"
        case .authenticationFailed:
            "the sealed courier payload does not open with this key for this row (other key, or altered)"
        case .invalidMessage(let error): "the sealed courier payload is not a valid message: \(error)"
        }
    }
}

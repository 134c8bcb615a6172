import Crypto
import Foundation
import KeyFile

/// The Ed25519 private key that signs audit checkpoints; its file holds the 32-byte seed.
public struct AuditSigningKey: Sendable, CustomStringConvertible {
    /// Kept as bytes: swift-crypto's key types are not `Sendable` on Linux.
    private let seed: [UInt8]

    /// The bytes of a seed (any 32 bytes are one).
    public static let seedByteCount = 32

    /// A key from its 32-byte seed (the raw representation of an Ed25519 private key).
    public init(seed: [UInt8]) {
        precondition(seed.count == Self.seedByteCount, "an Ed25519 seed has 32 bytes")
        self.seed = seed
    }

    /// Reads the key file (exactly 32 bytes). Like the audit key, its mode is not checked: replicas
    /// share it through a Kubernetes Secret, which is mounted 0440 for the pod's fsGroup.
    public static func load(file: URL) throws(KeyFileError) -> AuditSigningKey {
        let seed = try KeyFile.read(file: file)
        guard seed.count == seedByteCount else {
            throw .wrongSize(path: file.path, byteCount: seed.count, expected: seedByteCount)
        }
        return AuditSigningKey(seed: seed)
    }

    /// Reads the key file, or creates it (mode 0600) with 32 random bytes when it does not exist.
    public static func loadOrCreate(file: URL) throws(KeyFileError) -> AuditSigningKey {
        if let created = try KeyFile.createIfAbsent(file: file, byteCount: seedByteCount) {
            return AuditSigningKey(seed: created)
        }
        return try load(file: file)
    }

    private var privateKey: Curve25519.Signing.PrivateKey {
        // 32 bytes are always a valid Ed25519 seed.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// The public half, for auditors.
    public var publicKey: AuditPublicKey {
        AuditPublicKey(raw: Array(privateKey.publicKey.rawRepresentation))
    }

    /// The 64-byte Ed25519 signature of `message`.
    public func signature(for message: [UInt8]) -> [UInt8] {
        // Signing with a valid key does not fail.
        Array(try! privateKey.signature(for: message))
    }

    /// Never shows the key bytes.
    public var description: String { "AuditSigningKey(key id \(publicKey.keyID), redacted)" }
}

/// The Ed25519 public key that checks audit checkpoints: as PEM SubjectPublicKeyInfo (what
/// `openssl pkey -pubin` reads) or as the base64 of its 32 raw bytes.
public struct AuditPublicKey: Sendable, Hashable {
    /// The 32 raw bytes.
    public let raw: [UInt8]

    /// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
    /// 1.3.101.112 }, BIT STRING } before the 32 key bytes.
    static let spkiPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    init(raw: [UInt8]) {
        self.raw = raw
    }

    /// A key from PEM (`-----BEGIN PUBLIC KEY-----`) or from the base64 of the 32 raw bytes.
    public init?(text: String) {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let body = lines.filter { !$0.isEmpty && !$0.hasPrefix("-----") }.joined()
        guard let bytes = Data(base64Encoded: body).map(Array.init) else { return nil }
        if bytes.count == 32, !text.contains("-----") {
            raw = bytes
        } else if bytes.count == Self.spkiPrefix.count + 32, bytes.starts(with: Self.spkiPrefix) {
            raw = Array(bytes.dropFirst(Self.spkiPrefix.count))
        } else {
            return nil
        }
    }

    /// PEM SubjectPublicKeyInfo.
    public var pem: String {
        "-----BEGIN PUBLIC KEY-----\n" + Data(Self.spkiPrefix + raw).base64EncodedString()
            + "\n-----END PUBLIC KEY-----\n"
    }

    /// The first 16 hex digits of SHA-256 over the 32 raw bytes: names the key in checkpoints.
    public var keyID: String {
        String(Hex.encode(SHA256.hash(data: raw)).prefix(16))
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

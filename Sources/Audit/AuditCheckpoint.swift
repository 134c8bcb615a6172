import Foundation

/// A signed statement "the log up to seq N has digest D and head H", kept in the `details` of
/// an `audit.checkpoint` event (in the spirit of Certificate Transparency's signed tree heads).
///
/// The signature is Ed25519 over ``message``, the UTF-8 text
/// `recovery-gateway audit checkpoint v1\nseq=N\ndigest=D\nhead=H\nat=T\n`, which an auditor
/// can rebuild from the details and check with `openssl pkeyutl -verify -rawin`.
public struct AuditCheckpoint: Sendable, Hashable {
    /// The last seq the checkpoint covers (events 1…seq).
    public var seq: Int64
    /// ``AuditDigest`` after event `seq`, hex.
    public var digest: String
    /// The HMAC hash of event `seq` (the chain head then), hex.
    public var head: String
    /// When it was signed, RFC 3339 with microseconds.
    public var signedAt: String
    /// ``AuditPublicKey/keyID`` of the signing key.
    public var keyID: String
    /// The Ed25519 signature of ``message``, base64.
    public var signature: String

    /// Signs the state after event `seq`.
    public init(seq: Int64, digest: AuditDigest, head: String, at: Date, key: AuditSigningKey) {
        self.seq = seq
        self.digest = digest.hex
        self.head = head
        signedAt = AuditTime.format(at)
        keyID = key.publicKey.keyID
        signature = ""
        signature = Data(key.signature(for: message)).base64EncodedString()
    }

    /// The checkpoint in an event's details; throws naming the first field missing or malformed.
    public init(details: [String: String]) throws(AuditCheckpointError) {
        func field(_ name: String) throws(AuditCheckpointError) -> String {
            guard let value = details[name], !value.isEmpty else { throw .missingField(name) }
            return value
        }
        guard let seq = Int64(try field("seq")), seq >= 0 else { throw .missingField("seq") }
        self.seq = seq
        digest = try field("digest")
        head = try field("head")
        signedAt = try field("signed_at")
        keyID = try field("key_id")
        signature = try field("signature")
    }

    /// The details of the `audit.checkpoint` event.
    public var details: [String: String] {
        [
            "seq": String(seq), "digest": digest, "head": head, "signed_at": signedAt, "key_id": keyID,
            "signature": signature,
        ]
    }

    /// The exact bytes signed.
    public var message: [UInt8] {
        Array("recovery-gateway audit checkpoint v1\nseq=\(seq)\ndigest=\(digest)\nhead=\(head)\nat=\(signedAt)\n".utf8)
    }

    /// Whether `key` signed this checkpoint.
    public func isSigned(by key: AuditPublicKey) -> Bool {
        guard let bytes = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(Array(bytes), for: message)
    }
}

/// Why an `audit.checkpoint` event's details are not a checkpoint.
public enum AuditCheckpointError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A detail is absent, empty or malformed.
    case missingField(String)

    public var description: String {
        switch self {
        case .missingField(let name): "checkpoint detail \(name) is missing or malformed"
        }
    }
}

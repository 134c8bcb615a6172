import Foundation
import UUIDText

/// The canonical, versioned bytes of an event that its `hash` covers.
///
/// Version 1: the magic `RGAUDIT1`, then every field except `hash` in a fixed order. Integers are
/// 8-byte big-endian; strings are a 4-byte big-endian length then UTF-8; an optional is one byte
/// (0 absent, 1 present) then the value; `details` is a count then key/value strings sorted by
/// their UTF-8 bytes. Nothing is ambiguous: every variable-length part carries its length.
///
/// Version 2 (every event that names its key): the magic `RGAUDIT2`, the fields of version 1, then
/// `key_id` as a string. An event without a key id (sealed before version 2) keeps version 1, so its
/// stored hash still holds.
enum AuditCanonicalEncoding {
    static let magicV1 = Array("RGAUDIT1".utf8)
    static let magicV2 = Array("RGAUDIT2".utf8)

    static func encode(_ event: AuditEvent) -> [UInt8] {
        var out: [UInt8] = []
        encode(event, into: &out)
        return out
    }

    /// Appends the canonical bytes of `event` to `out` (the MAC's input follows its previous hash).
    static func encode(_ event: AuditEvent, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + 512)
        out.append(contentsOf: event.keyID == nil ? magicV1 : magicV2)
        append(event.seq, to: &out)
        append(event.id, to: &out)
        append(event.atMicroseconds, to: &out)
        append(event.actor, to: &out)
        appendOptional(event.sourceIP, to: &out)
        appendOptional(event.requestID, to: &out)
        append(event.action.rawValue, to: &out)
        appendOptional(event.deliveryID, to: &out)
        appendOptional(event.identityID, to: &out)
        appendOptional(event.recipientHash, to: &out)
        appendOptional(event.recipientMasked, to: &out)
        appendOptional(event.outcome, to: &out)
        let details = event.details.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        append(Int64(details.count), to: &out)
        for (key, value) in details {
            append(key, to: &out)
            append(value, to: &out)
        }
        append(event.prevHash, to: &out)
        if let keyID = event.keyID { append(keyID, to: &out) }
    }

    private static func append(_ value: Int64, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }

    private static func append(_ value: String, to out: inout [UInt8]) {
        let utf8 = value.utf8
        withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: utf8)
    }

    /// An id as the string of its lowercase text: the octets of `lowercasedString`, without the String.
    private static func append(_ id: UUID, to out: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(36).bigEndian) { out.append(contentsOf: $0) }
        id.appendLowercased(to: &out)
    }

    private static func appendOptional(_ id: UUID?, to out: inout [UInt8]) {
        guard let id else { return out.append(0) }
        out.append(1)
        append(id, to: &out)
    }

    private static func appendOptional(_ value: String?, to out: inout [UInt8]) {
        if let value {
            out.append(1)
            append(value, to: &out)
        } else {
            out.append(0)
        }
    }
}

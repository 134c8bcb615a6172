import Audit
import Foundation
import UUIDText

/// Opaque page cursors: base64url of a versioned position, so callers cannot build them. Shared
/// (package access) with the PostgreSQL store, so both give out the same cursors.
package enum StoreCursor {
    /// The position after the last delivery of a page (newest first): its creation time and id.
    package static func delivery(createdAtMicros: Int64, id: UUID) -> String {
        encode("d1:\(createdAtMicros):\(id.lowercasedString)")
    }

    package static func parseDelivery(_ cursor: String) throws(StoreError) -> (createdAtMicros: Int64, id: String) {
        let parts = try decode(cursor).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "d1", let micros = Int64(parts[1]),
            UUID(text: String(parts[2])) != nil
        else {
            throw .invalidQuery(parameter: "cursor", reason: "not a cursor of this list")
        }
        return (micros, String(parts[2]))
    }

    /// The position after the last audit event of a page: its seq.
    package static func audit(seq: Int64) -> String {
        encode("a1:\(seq)")
    }

    package static func parseAudit(_ cursor: String) throws(StoreError) -> Int64 {
        let parts = try decode(cursor).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "a1", let seq = Int64(parts[1]) else {
            throw .invalidQuery(parameter: "cursor", reason: "not a cursor of this list")
        }
        return seq
    }

    /// The cursor of the page after the one that ends with `record`.
    package static func after(_ record: Delivery) -> String {
        delivery(createdAtMicros: AuditTime.microseconds(record.createdAt), id: record.id)
    }

    /// The cursor of the page after the one that ends with `event`.
    package static func after(_ event: AuditEvent) -> String {
        audit(seq: event.seq)
    }

    private static func encode(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func decode(_ cursor: String) throws(StoreError) -> String {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else {
            throw .invalidQuery(parameter: "cursor", reason: "not a cursor of this list")
        }
        return text
    }
}

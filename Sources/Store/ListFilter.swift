import Audit
import Foundation

/// The WHERE clause of a list query, the same for every store: the conditions of a
/// ``DeliveryQuery`` or ``AuditQuery`` with `?` for each value. Each store binds the values its way
/// (SQLite keeps UUIDs as text, PostgreSQL as `uuid`) and numbers the placeholders if it must.
package struct ListFilter: Sendable {
    package private(set) var clauses: [String] = []
    package private(set) var values: [StoreValue] = []

    /// ` WHERE a AND b`, or nothing when there is no condition.
    package var sql: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }

    mutating func add(_ clause: String, _ arguments: StoreValue...) {
        clauses.append(clause)
        values += arguments
    }

    mutating func add<Given>(_ clause: String, ifPresent value: Given?, _ convert: (Given) -> StoreValue) {
        guard let value else { return }
        add(clause, convert(value))
    }
}

extension DeliveryQuery {
    /// The conditions of this query (the cursor's position included); newest first is the order.
    package func filter() throws(StoreError) -> ListFilter {
        var filter = ListFilter()
        if let cursor {
            let position = try StoreCursor.parseDelivery(cursor)
            guard let id = UUID(uuidString: position.id) else {
                throw .invalidQuery(parameter: "cursor", reason: "not a cursor of this list")
            }
            filter.add(
                "(created_at_us < ? OR (created_at_us = ? AND id < ?))",
                .integer(position.createdAtMicros),
                .integer(position.createdAtMicros),
                .uuid(id)
            )
        }
        filter.add("identity_id = ?", ifPresent: identityID) { .uuid($0) }
        filter.add("status = ?", ifPresent: status) { .text($0.rawValue) }
        filter.add("created_at_us >= ?", ifPresent: createdSince) { .micros($0) }
        filter.add("created_at_us < ?", ifPresent: createdUntil) { .micros($0) }
        return filter
    }
}

extension AuditQuery {
    /// The conditions of this query (the cursor's position included); ascending `seq` is the order.
    package func filter() throws(StoreError) -> ListFilter {
        var filter = ListFilter()
        if let cursor { filter.add("seq > ?", .integer(try StoreCursor.parseAudit(cursor))) }
        filter.add("at_us >= ?", ifPresent: since) { .micros($0) }
        filter.add("at_us < ?", ifPresent: until) { .micros($0) }
        filter.add("identity_id = ?", ifPresent: identityID) { .uuid($0) }
        filter.add("actor = ?", ifPresent: actor) { .text($0) }
        filter.add("action = ?", ifPresent: action) { .text($0.rawValue) }
        filter.add("delivery_id = ?", ifPresent: deliveryID) { .uuid($0) }
        return filter
    }
}

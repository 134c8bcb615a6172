import Audit
import Foundation
import UUIDText

/// A list query as every store runs it: the table, the WHERE clause of a ``DeliveryQuery`` or
/// ``AuditQuery`` with `?` for each value, the order and the page size. Each store binds the values
/// its way (SQLite keeps UUIDs as text, PostgreSQL as `uuid`) and numbers the placeholders if it
/// must.
package struct ListFilter: Sendable {
    package let table: String
    package let order: String
    package let limit: Int
    package private(set) var clauses: [String] = []
    package private(set) var values: [StoreValue] = []

    /// ` WHERE a AND b`, or nothing when there is no condition.
    package var sql: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }

    init(table: String, order: String, limit: Int) {
        self.table = table
        self.order = order
        self.limit = limit
    }

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
    /// This query on `deliveries`, newest first, from the cursor's position on.
    package func filter() throws(StoreError) -> ListFilter {
        var filter = ListFilter(table: "deliveries", order: "created_at_us DESC, id DESC", limit: limit)
        if let cursor {
            let position = try StoreCursor.parseDelivery(cursor)
            guard let id = UUID(text: position.id) else {
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
        filter.add("source = ?", ifPresent: source) { .text($0.rawValue) }
        filter.add("template_type = ?", ifPresent: templateType) { .text($0) }
        filter.add("created_at_us >= ?", ifPresent: createdSince) { .micros($0) }
        filter.add("created_at_us < ?", ifPresent: createdUntil) { .micros($0) }
        return filter
    }
}

extension AuditQuery {
    /// This query on `audit_events`, in `seq` order, from the cursor's position on.
    package func filter() throws(StoreError) -> ListFilter {
        var filter = ListFilter(table: "audit_events", order: "seq", limit: limit)
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

import JSONValue

/// How every store keeps an audit event's `details`: one JSON object with sorted keys (canonical, so
/// both stores write the same text), read back or refused as a corrupt row.
package enum AuditDetailsColumn {
    /// The details as a JSON object with sorted keys: the same text Foundation's `JSONEncoder` writes
    /// for them with `[.sortedKeys, .withoutEscapingSlashes]`, which rows written before kept, at a
    /// fraction of its cost (it was about 1.5 % of an email's instructions).
    package static func text(_ details: [String: String]) -> String {
        JSONStringObject.text(details)
    }

    /// The details `text` holds: a JSON object of strings, or a corrupt row.
    package static func details(_ text: String) throws(StoreError) -> [String: String] {
        // The gateway's own parser, not `JSONDecoder`: the checkpointer reads every event back.
        guard case .object(let members) = try? JSONValue(parsing: text.utf8) else {
            throw .corruptRow(table: "audit_events", column: "details")
        }
        var details: [String: String] = [:]
        details.reserveCapacity(members.count)
        for (key, value) in members {
            guard let text = value.stringValue else { throw .corruptRow(table: "audit_events", column: "details") }
            details[key] = text
        }
        return details
    }
}

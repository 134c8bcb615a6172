import Foundation

/// How every store keeps an audit event's `details`: one JSON object with sorted keys (canonical, so
/// both stores write the same text), read back or refused as a corrupt row.
package enum AuditDetailsColumn {
    package static func text(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a [String: String] cannot fail.
        // swift-format-ignore: NeverUseForceTry
        return String(decoding: try! encoder.encode(details), as: UTF8.self)
    }

    package static func details(_ text: String) throws(StoreError) -> [String: String] {
        guard let details = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw .corruptRow(table: "audit_events", column: "details")
        }
        return details
    }
}

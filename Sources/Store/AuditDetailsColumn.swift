import Foundation

/// How every store keeps an audit event's `details`: one JSON object with sorted keys (canonical, so
/// both stores write the same text), read back or refused as a corrupt row.
package enum AuditDetailsColumn {
    /// One encoder for every event (building one per call costs more than encoding the details).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    package static func text(_ details: [String: String]) -> String {
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

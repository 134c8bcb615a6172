import Foundation
import GatewayAPI

/// How `send`, `status` and `list` show deliveries to a person: labelled lines for one, a table for many.
enum DeliveryText {
    /// One delivery as `label  value` lines; fields the delivery does not have are left out.
    static func details(_ delivery: DeliveryView) -> String {
        var rows: [(String, String?)] = [
            ("id", delivery.id),
            ("status", delivery.status + (delivery.failure.map { " (\($0))" } ?? "")),
            ("identity", delivery.identityID),
            ("recipient", delivery.recipient),
            ("source", delivery.source),
            ("template type", delivery.templateType),
            ("method", delivery.method),
            ("template", delivery.template.map { $0 + (delivery.locale.map { " (\($0))" } ?? "") }),
            ("attempts", String(delivery.attempts)),
            ("created", delivery.createdAt),
            ("sent", delivery.sentAt),
            ("next attempt", delivery.nextAttemptAt),
            ("last error", delivery.lastError.map { "\($0.`class`): \(oneLine($0.message))" }),
            ("smtp reply", delivery.smtpReply.map(oneLine)),
            ("message id", delivery.messageID),
        ]
        rows.removeAll { $0.1 == nil }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { label, value in label.padding(toLength: width + 2, withPad: " ", startingAt: 0) + value! }
            .joined(separator: "\n")
    }

    static let columns = ["ID", "STATUS", "ATTEMPTS", "CREATED", "RECIPIENT", "METHOD", "TEMPLATE", "FAILURE"]

    /// The table's cells for one delivery, in `columns` order (`-` for none).
    static func cells(_ delivery: DeliveryView) -> [String] {
        [
            delivery.id, delivery.status, String(delivery.attempts), delivery.createdAt, delivery.recipient,
            delivery.method ?? "-", delivery.template ?? delivery.templateType ?? "-", delivery.failure ?? "-",
        ]
    }

    /// A header and one row per delivery: aligned columns for a terminal, tab-separated for a pipe.
    static func table(_ deliveries: [DeliveryView], aligned: Bool) -> String {
        let rows = [columns] + deliveries.map(cells)
        guard aligned else { return rows.map { $0.joined(separator: "\t") }.joined(separator: "\n") }
        let widths = columns.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }

    /// Decodes a delivery the API answered with; an answer that is not one ends the command (exit 1).
    static func decode(_ body: Data) throws -> DeliveryView {
        do {
            return try JSONDecoder().decode(DeliveryView.self, from: body)
        } catch {
            throw operationFailed("the gateway's answer is not a delivery: \(error)")
        }
    }
}

/// Whether standard output (or error) is a terminal: progress and tables only for people.
enum Terminal {
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }
}

import Foundation
import Hummingbird
import RFC3339
import Store
import UUIDText

/// The query parameters of a list, each checked with a problem naming it.
package struct QueryParameters {
    let values: Parameters

    package init(_ values: Parameters) { self.values = values }

    package func string(_ name: String) -> String? {
        values.get(name).map { String($0) }
    }

    /// The `cursor` of the page to answer; an empty one (`?cursor=`) asks for the first page, as no
    /// cursor does.
    package func cursor() -> String? {
        string("cursor").flatMap { $0.isEmpty ? nil : $0 }
    }

    package func uuid(_ name: String) throws(Problem) -> UUID? {
        guard let text = string(name) else { return nil }
        guard let id = UUID(text: text) else { throw .badParameter(name, "must be a UUID") }
        return id
    }

    /// An RFC 3339 time.
    package func date(_ name: String) throws(Problem) -> Date? {
        guard let text = string(name) else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw .badParameter(name, "must be an RFC 3339 time such as 2026-01-31T12:00:00Z")
        }
        return date
    }

    package func limit() throws(Problem) -> Int {
        guard let text = string("limit") else { return PageLimit.default }
        guard let limit = Int(text), PageLimit.range.contains(limit) else {
            throw .badParameter("limit", "must be from \(PageLimit.range.lowerBound) to \(PageLimit.range.upperBound)")
        }
        return limit
    }
}

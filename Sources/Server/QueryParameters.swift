import Foundation
import Hummingbird

/// The query parameters of a list, each checked with a problem naming it.
struct QueryParameters {
    let values: Parameters

    init(_ values: Parameters) { self.values = values }

    func string(_ name: String) -> String? {
        values.get(name).map { String($0) }
    }

    /// The `cursor` of the page to answer; an empty one (`?cursor=`) asks for the first page, as no
    /// cursor does.
    func cursor() -> String? {
        string("cursor").flatMap { $0.isEmpty ? nil : $0 }
    }

    func uuid(_ name: String) throws(Problem) -> UUID? {
        guard let text = string(name) else { return nil }
        guard let id = UUID(uuidString: text) else { throw .badParameter(name, "must be a UUID") }
        return id
    }

    /// An RFC 3339 time. RFC 3339 allows a lower-case `t` and `z`, which Foundation's ISO 8601 parser
    /// does not: the text is upper-cased first (no other letter can appear in a valid time).
    func date(_ name: String) throws(Problem) -> Date? {
        guard let text = string(name) else { return nil }
        guard let date = try? Date(text.uppercased(), strategy: .iso8601) else {
            throw .badParameter(name, "must be an RFC 3339 time such as 2026-01-31T12:00:00Z")
        }
        return date
    }

    func limit() throws(Problem) -> Int {
        guard let text = string("limit") else { return 50 }
        guard let limit = Int(text), (1...200).contains(limit) else {
            throw .badParameter("limit", "must be from 1 to 200")
        }
        return limit
    }
}

import Foundation
import Hummingbird
import Testing

@testable import Server

/// The list endpoints' query parameters: each value checked, and a bad one refused with a 400
/// problem that names the parameter.
@Suite("Query parameters")
struct QueryParametersTests {
    /// The parameters of `query` (`name=value&…`, already decoded, as Hummingbird hands them over).
    func parameters(_ query: String) -> QueryParameters {
        let pairs = query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
        return QueryParameters(Parameters(pairs))
    }

    /// The problem `body` throws: 400 `invalid_parameter` naming `field`.
    func expectRefusal(_ field: String, _ body: () throws(Problem) -> Void) {
        do {
            try body()
            Issue.record("\(field) was accepted")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.code == "invalid_parameter")
            #expect(error.field == field)
        }
    }

    @Test func theLimitIs50ByDefaultAndFrom1To200() throws {
        #expect(try parameters("").limit() == 50)
        #expect(try parameters("limit=1").limit() == 1)
        #expect(try parameters("limit=200").limit() == 200)
        for bad in ["0", "201", "-1", "ten", ""] {
            expectRefusal("limit") { () throws(Problem) in _ = try parameters("limit=\(bad)").limit() }
        }
    }

    @Test func timesAreRFC3339InEitherCase() throws {
        let noon = Date(timeIntervalSince1970: 1_769_860_800)  // 2026-01-31T12:00:00Z
        #expect(try parameters("since=2026-01-31T12:00:00Z").date("since") == noon)
        #expect(try parameters("since=2026-01-31t12:00:00z").date("since") == noon)
        #expect(try parameters("since=2026-01-31T13:00:00+01:00").date("since") == noon)
        #expect(try parameters("").date("since") == nil)
        for bad in ["yesterday", "2026-01-31", "2026-13-01T00:00:00Z"] {
            expectRefusal("until") { () throws(Problem) in _ = try parameters("until=\(bad)").date("until") }
        }
    }

    @Test func idsAreUUIDs() throws {
        let id = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
        #expect(try parameters("identity_id=\(id)").uuid("identity_id") == UUID(uuidString: id))
        #expect(try parameters("").uuid("identity_id") == nil)
        expectRefusal("identity_id") { () throws(Problem) in _ = try parameters("identity_id=42").uuid("identity_id") }
    }

    @Test func anEmptyCursorAsksForTheFirstPage() {
        #expect(parameters("cursor=").cursor() == nil)
        #expect(parameters("").cursor() == nil)
        #expect(parameters("cursor=YTE6MQ").cursor() == "YTE6MQ")
    }
}

import Foundation
import Store
import Testing

/// The opaque page cursors both stores give out: they round-trip, are URL-safe, and a cursor of
/// one list (or anything else) is refused by the other as `invalidQuery(cursor)`.
@Suite("Store cursors")
struct StoreCursorTests {
    let id = UUID(uuidString: "a251ebc2-880c-4f76-a8f3-38e6940eab0e")!

    @Test func aDeliveryCursorRoundTrips() throws {
        let cursor = StoreCursor.delivery(createdAtMicros: 1_800_000_000_123_456, id: id)
        let parsed = try StoreCursor.parseDelivery(cursor)
        #expect(parsed.createdAtMicros == 1_800_000_000_123_456)
        #expect(parsed.id == "a251ebc2-880c-4f76-a8f3-38e6940eab0e")
    }

    @Test func anAuditCursorRoundTrips() throws {
        #expect(try StoreCursor.parseAudit(StoreCursor.audit(seq: 4711)) == 4711)
    }

    @Test func cursorsAreURLSafeWithoutPadding() throws {
        // Enough cursors that base64's `+`, `/` and `=` would all turn up.
        for seq in Int64(0)..<300 {
            let cursor = StoreCursor.audit(seq: seq * 7919)
            #expect(!cursor.contains(where: { "+/=".contains($0) }), "\(cursor)")
            #expect(try StoreCursor.parseAudit(cursor) == seq * 7919)
        }
    }

    @Test func oneListsCursorIsRefusedByTheOther() {
        let delivery = StoreCursor.delivery(createdAtMicros: 1, id: id)
        #expect(throws: StoreError.invalidQuery(parameter: "cursor", reason: "not a cursor of this list")) {
            try StoreCursor.parseAudit(delivery)
        }
        #expect(throws: StoreError.invalidQuery(parameter: "cursor", reason: "not a cursor of this list")) {
            try StoreCursor.parseDelivery(StoreCursor.audit(seq: 1))
        }
    }

    @Test(arguments: ["", "not base64!", "YTE6eA", "ZDE6MTp4", "ZDE6MQ", "%%%", "YTE6MTp4"])
    func anythingElseIsRefused(_ cursor: String) {
        #expect(throws: StoreError.invalidQuery(parameter: "cursor", reason: "not a cursor of this list")) {
            try StoreCursor.parseAudit(cursor)
        }
        #expect(throws: StoreError.invalidQuery(parameter: "cursor", reason: "not a cursor of this list")) {
            try StoreCursor.parseDelivery(cursor)
        }
    }
}

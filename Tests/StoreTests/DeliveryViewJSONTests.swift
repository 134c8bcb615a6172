import Audit
import Foundation
import Store
import Testing

@testable import GatewayAPI

/// A delivery's view, written by hand: the octets `APIJSON.encoder` writes, which a replay answers
/// again and clients have read since 0.1.0.
@Suite struct DeliveryViewJSONTests {
    @Test func theTextIsTheAPIEncoders() throws {
        let chain = AuditChain(key: try AuditKey(bytes: [UInt8](repeating: 3, count: 32)))
        let base = DeliveryView(Fixtures.newDelivery(chain: chain).delivery)
        var generator = SystemRandomNumberGenerator()
        func text(_ maxLength: Int = 12) -> String {
            AuditDetailsColumnTests.randomText(&generator, maxLength: maxLength)
        }
        func maybe(_ value: @autoclosure () -> String) -> String? {
            Bool.random(using: &generator) ? value() : nil
        }
        for _ in 0..<2000 {
            var view = base
            view.id = text()
            view.status = text()
            view.failure = maybe(text())
            view.identityID = maybe(text())
            view.recipient = text()
            view.method = maybe(text())
            view.template = maybe(text())
            view.source = text()
            view.templateType = maybe(text())
            view.locale = maybe(text())
            view.attempts = [0, 1, -1, 42, .max, .min].randomElement(using: &generator)!
            view.nextAttemptAt = maybe(text())
            view.lastError =
                Bool.random(using: &generator) ? DeliveryView.LastError(class: text(), message: text(40)) : nil
            view.smtpReply = maybe(text())
            view.messageID = text()
            view.createdAt = text()
            view.sentAt = maybe(text())
            let expected = try APIJSON.encoder.encode(view)
            #expect(view.json() == expected, "\(String(decoding: expected, as: UTF8.self))")
        }
    }
}

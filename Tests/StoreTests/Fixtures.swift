import Audit
import Foundation
import JSONValue
import Store

/// Builders of realistic requests for the contract suite.
enum Fixtures {
    /// A fixed instant, so that tests control time.
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    static func newDelivery(
        chain: AuditChain,
        key: String = UUID().uuidString,
        apiKeyID: String = "backend",
        identityID: UUID = UUID(),
        recipient: String = "john.doe@example.com",
        requestHash: String = "hash-a",
        at: Date = t0,
        cooldown: TimeInterval = 0,
        keyExpiresAfter: TimeInterval = 86_400
    ) -> NewDelivery {
        let id = UUID()
        let delivery = Delivery(
            id: id,
            status: .queued,
            recipient: try! EmailAddress(recipient),  // every caller passes a valid address
            content: .recovery(
                RecoveryOrder(
                    identityID: identityID,
                    method: .link,
                    template: "recovery",
                    locale: "de-CH",
                    expiresIn: "1h",
                    transientPayload: .object(["ticket": .number(4711)])
                )
            ),
            deadline: at.addingTimeInterval(3600),
            reason: "ticket #4711",
            messageID: try! MessageID("<\(id.uuidString.lowercased())@gateway.example>"),
            actor: apiKeyID,
            requestID: "req-\(key)",
            createdAt: at
        )
        return NewDelivery(
            delivery: delivery,
            idempotency: IdempotencyEntry(
                apiKeyID: apiKeyID,
                key: key,
                requestHash: requestHash,
                expiresAt: at.addingTimeInterval(keyExpiresAfter)
            ),
            cooldown: cooldown,
            audit: AuditDraft(
                at: at,
                actor: apiKeyID,
                sourceIP: "192.0.2.10",
                requestID: "req-\(key)",
                action: .emailRequested,
                identityID: identityID,
                recipientHash: chain.recipientHash(recipient),
                recipientMasked: AuditChain.mask(recipient),
                outcome: "queued",
                details: ["reason": "ticket #4711", "method": "link"]
            )
        )
    }

    static func draft(_ action: AuditAction, at: Date = t0, actor: String = "system") -> AuditDraft {
        AuditDraft(at: at, actor: actor, action: action, outcome: action.rawValue)
    }
}

/// What a replay answered: the delivery's id and the answer's bytes its key stored, if any.
struct Replayed: Equatable {
    var id: UUID
    var storedAnswer: Data? = nil
}

extension AcceptResult {
    /// The replay, or nil for any other answer.
    var replayed: Replayed? {
        if case .replay(let delivery, let storedAnswer) = self {
            Replayed(id: delivery.id, storedAnswer: storedAnswer)
        } else {
            nil
        }
    }

    /// The accepted record, or nil for any other answer.
    var accepted: Delivery? {
        if case .accepted(let record, _) = self { record } else { nil }
    }
}

extension Delivery {
    /// The sealed courier document the row holds, nil for a recovery order or a final courier row.
    var sealedPayload: Data? {
        if case .courier(let message) = content { message.sealed } else { nil }
    }
}

// Addresses and Message-IDs written as literals in the suite's expectations (each a valid one).
extension EmailAddress: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { try! self.init(value) }
}

extension MessageID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { try! self.init(value) }
}

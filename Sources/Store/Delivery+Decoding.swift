import DeliveryVocabulary
import Foundation
import JSONValue

extension Delivery {
    /// The delivery a `deliveries` row holds, from its values as a database gives them back (text,
    /// numbers, instants, in ``DeliveryColumn``'s order): each store's decoder reads its cells and
    /// calls this, so the row becomes domain values in one place for every store. A value that is
    /// not what the gateway writes is a `corruptRow` naming the first column at fault.
    package static func decoding(
        id: UUID,
        status: String,
        failure: String?,
        identityID: UUID?,
        recipient: String,
        method: String?,
        template: String?,
        locale: String?,
        expiresIn: String,
        deadline: Date,
        reason: String?,
        transientPayload: String?,
        messageID: String,
        actor: String,
        requestID: String?,
        attempts: Int,
        nextAttemptAt: Date?,
        leaseExpiresAt: Date?,
        lastErrorClass: String?,
        lastError: String?,
        smtpReply: String?,
        createdAt: Date,
        sentAt: Date?,
        source: String,
        templateType: String?,
        sealedPayload: Data?
    ) throws(StoreError) -> Delivery {
        typealias C = DeliveryColumn
        guard let parsedRecipient = try? EmailAddress(recipient) else { throw corrupt(C.recipient) }
        guard let parsedMessageID = try? MessageID(messageID) else { throw corrupt(C.messageID) }
        let content: DeliveryContent
        switch try value(source, C.source) as DeliverySource {
        case .adminAPI:
            guard let identityID else { throw corrupt(C.identityID) }
            guard let method else { throw corrupt(C.method) }
            guard let template else { throw corrupt(C.template) }
            var payload: JSONValue?
            if let transientPayload {
                guard let parsed = try? JSONValue(parsing: Array(transientPayload.utf8)) else {
                    throw corrupt(C.transientPayload)
                }
                payload = parsed
            }
            content = .recovery(
                RecoveryOrder(
                    identityID: identityID,
                    method: try value(method, C.method),
                    template: template,
                    locale: locale,
                    expiresIn: expiresIn,
                    transientPayload: payload
                )
            )
        case .kratosCourier:
            guard let templateType else { throw corrupt(C.templateType) }
            content = .courier(
                SealedCourierMessage(
                    identityID: identityID,
                    templateType: try value(templateType, C.templateType),
                    locale: locale,
                    expiresIn: expiresIn,
                    sealed: sealedPayload
                )
            )
        }
        return Delivery(
            id: id,
            status: try value(status, C.status),
            failure: try failure.map { text throws(StoreError) in try value(text, C.failure) },
            recipient: parsedRecipient,
            content: content,
            deadline: deadline,
            reason: reason,
            messageID: parsedMessageID,
            actor: actor,
            requestID: requestID,
            attempts: attempts,
            nextAttemptAt: nextAttemptAt,
            leaseExpiresAt: leaseExpiresAt,
            lastErrorClass: try lastErrorClass.map { text throws(StoreError) in try value(text, C.lastErrorClass) },
            lastError: lastError,
            smtpReply: smtpReply,
            createdAt: createdAt,
            sentAt: sentAt
        )
    }

    private static func value<E: RawRepresentable>(_ text: String, _ column: DeliveryColumn) throws(StoreError) -> E
    where E.RawValue == String {
        guard let value = E(rawValue: text) else { throw corrupt(column) }
        return value
    }

    private static func corrupt(_ column: DeliveryColumn) -> StoreError {
        .corruptRow(table: "deliveries", column: column.rawValue)
    }
}

import Audit
import Foundation
import GatewayAPI
import Hummingbird
import NIOCore
import Server
import Store
import UUIDText

/// A delivery's page, and its state as JSON for the page's script (the API's `DeliveryView`).
extension ConsoleRoutes {
    /// The delivery's whole story: its state, who asked for it and why, and its audit events
    /// (requested, each failed attempt, sent or failed) in the order they happened.
    func deliveryPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try session(request)
        let record = try await deliveryRecord(context)
        let view = DeliveryView(record)
        var page = chrome("Delivery", session: session)
        let final = view.status == DeliveryStatus.sent.rawValue || view.status == DeliveryStatus.failed.rawValue
        let fields: [String: Any] = [
            "id": view.id, "status": view.status, "failure": view.failure ?? "", "attempts": view.attempts,
            "smtpReply": view.smtpReply ?? "", "lastError": view.lastError.map { "\($0.`class`): \($0.message)" } ?? "",
            "recipient": view.recipient, "method": view.method ?? "", "template": view.template ?? "",
            "locale": view.locale ?? "", "createdAt": view.createdAt, "nextAttemptAt": view.nextAttemptAt ?? "",
            "sentAt": view.sentAt ?? "", "messageID": view.messageID, "identityID": view.identityID ?? "",
            "final": final, "refresh": !final, "actor": record.actor, "reason": record.reason ?? "",
        ]
        page.merge(fields) { _, new in new }
        let events: Page<AuditEvent>
        do {
            events = try await store.auditEvents(AuditQuery(deliveryID: record.id, limit: PageLimit.range.upperBound))
        } catch {
            throw context.storeUnavailable(error)
        }
        page["events"] = events.items.sorted { $0.seq < $1.seq }.map(AuditEventView.init).map {
            [
                "seq": $0.seq, "at": $0.at, "action": $0.action, "actor": $0.actor, "outcome": $0.outcome ?? "",
                "details": $0.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: "; "
                ),
            ] as [String: Any]
        }
        return ConsolePages.page("delivery", page)
    }

    func deliveryStatus(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let view = try await delivery(context)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: view.json()))
        )
    }

    /// The delivery named by the path's `:id`, as the API shows it (recipient masked).
    func delivery(_ context: GatewayRequestContext) async throws -> DeliveryView {
        DeliveryView(try await deliveryRecord(context))
    }

    /// The stored delivery named by the path's `:id`.
    func deliveryRecord(_ context: GatewayRequestContext) async throws -> Delivery {
        guard let text = context.parameters.get("id"), let id = UUID(text: text) else {
            throw ConsoleError(.notFound, "No such delivery.")
        }
        let record: Delivery?
        do {
            record = try await store.delivery(id: id)
        } catch {
            throw context.storeUnavailable(error)
        }
        guard let record else { throw ConsoleError(.notFound, "No such delivery.") }
        return record
    }
}

import Foundation
import GatewayAPI
import Hummingbird
import NIOCore
import Server
import Store

/// A delivery's page, and its state as JSON for the page's script (the API's `DeliveryView`).
extension ConsoleRoutes {
    func deliveryPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try await session(request)
        let view = try await delivery(context)
        var page = chrome("Delivery", session: session)
        let final = view.status == DeliveryStatus.sent.rawValue || view.status == DeliveryStatus.failed.rawValue
        let fields: [String: Any] = [
            "id": view.id, "status": view.status, "failure": view.failure ?? "", "attempts": view.attempts,
            "smtpReply": view.smtpReply ?? "", "lastError": view.lastError.map { "\($0.`class`): \($0.message)" } ?? "",
            "recipient": view.recipient, "method": view.method, "template": view.template, "locale": view.locale ?? "",
            "createdAt": view.createdAt, "nextAttemptAt": view.nextAttemptAt ?? "", "sentAt": view.sentAt ?? "",
            "messageID": view.messageID, "identityID": view.identityID, "final": final, "refresh": !final,
        ]
        page.merge(fields) { _, new in new }
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
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw ConsoleError(.notFound, "No such delivery.")
        }
        let record: Delivery?
        do {
            record = try await store.delivery(id: id)
        } catch {
            throw context.storeUnavailable(error)
        }
        guard let record else { throw ConsoleError(.notFound, "No such delivery.") }
        return DeliveryView(record)
    }
}

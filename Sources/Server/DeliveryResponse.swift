import Domain
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Store
import UUIDText

/// The HTTP answer to what the ``DeliveryIntake`` answered, for every route that queues a delivery
/// (`POST /v1/recovery-emails`, `POST /v1/courier/kratos`): the delivery's view as JSON, its
/// `Location`, `Idempotent-Replayed: true` for a replay, and the delivery id, `replayed` and the
/// masked recipient on the request's log line.
///
/// A delivery queued now is answered 202 with its view. A replay is answered with the first answer's
/// body again, byte for byte: the view of the delivery as it was queued (``FirstAnswer/delivery``,
/// rendered again), or the bytes 0.1.0 stored (``FirstAnswer/stored``); its status is the route's
/// (``replayStatus``). After `Prefer: wait` the answer is 200 with the delivery as it is then.
package struct DeliveryResponse: ResponseGenerator {
    let answer: IntakeAnswer
    /// 202 for the API (the first answer again); 200 for Kratos's courier (posted before).
    let replayStatus: HTTPResponse.Status
    /// The delivery as it was when a `Prefer: wait` ended, answered instead (200).
    var waited: Delivery? = nil

    package init(answer: IntakeAnswer, replayStatus: HTTPResponse.Status = .accepted) {
        self.answer = answer
        self.replayStatus = replayStatus
    }

    /// What the answer adds to its request's log line (the console's too).
    package static func logFields(_ answer: IntakeAnswer) -> Logger.Metadata {
        var fields: Logger.Metadata = [
            "delivery_id": "\(answer.deliveryID.lowercasedString)", "replayed": "\(answer.replayed)",
        ]
        if let masked = answer.recipientMasked { fields["recipient"] = "\(masked)" }
        return fields
    }

    /// The status and body, before the headers.
    package var statusAndBody: (HTTPResponse.Status, Data) {
        if let waited { return (.ok, DeliveryView(waited).json()) }
        switch answer {
        case .queued(let delivery): return (.accepted, DeliveryView(delivery).json())
        case .replayed(_, .delivery(let queued)): return (replayStatus, DeliveryView(queued).json())
        case .replayed(_, .stored(let bytes)): return (replayStatus, bytes)
        }
    }

    /// The status's code (for callers that do not import HTTPTypes).
    package var statusCode: Int { statusAndBody.0.code }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        // Every route that answers one runs with the gateway's context; the fields go to its log line.
        (context as? GatewayRequestContext)?.logFields.add(Self.logFields(answer))
        let (status, body) = statusAndBody
        var headers: HTTPFields = [
            .contentType: "application/json",
            .location: "/v1/recovery-emails/\(answer.deliveryID.lowercasedString)",
        ]
        if answer.replayed { headers[.idempotentReplayed] = "true" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

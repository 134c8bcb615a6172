import Domain
import Foundation
import Server

/// The intake's answer as the API gives it (the server's `DeliveryResponse`): the domain answers in
/// its own terms, the status code and body are the server's.
extension IntakeAnswer {
    /// The HTTP status of the answer to the request (202 for a queued delivery or its replay).
    var status: Int { DeliveryResponse(answer: self).statusCode }
    /// The body of the answer: the delivery's view as it was queued.
    var body: Data { DeliveryResponse(answer: self).statusAndBody.1 }
}

import Foundation
import Store

/// How the API answers an accepted request. The domain stores that answer with the delivery, so a
/// retried request gets it byte for byte, without knowing its status code or its format.
public protocol AcceptedAnswerFormat: Sendable {
    /// The status and body of the answer to the request that queued `delivery`.
    func answer(for delivery: Delivery) -> (status: Int, body: Data)
}

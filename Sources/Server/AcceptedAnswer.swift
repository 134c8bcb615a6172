import Foundation
import Gateway
import GatewayAPI
import Store

/// The API's answer to an accepted request: 202 with the queued delivery as JSON.
public struct AcceptedAnswer: AcceptedAnswerFormat {
    public init() {}

    public func answer(for delivery: Delivery) -> (status: Int, body: Data) {
        (202, DeliveryView(delivery).json())
    }
}

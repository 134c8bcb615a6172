import Foundation
import Mail
import Store

extension Delivery {
    /// The sealed courier document the row holds, nil for a recovery order or a final courier row.
    var sealedPayload: Data? {
        if case .courier(let message) = content { message.sealed } else { nil }
    }
}

// Addresses written as literals in the suite's expectations (each a valid one).
extension EmailAddress: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { try! self.init(value) }
}

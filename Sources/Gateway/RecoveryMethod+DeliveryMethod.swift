import Store
import Templates

extension DeliveryMethod {
    /// The stored method of a delivery that recovers by `method`.
    public init(_ method: RecoveryMethod) {
        switch method {
        case .link: self = .link
        case .code: self = .code
        }
    }
}

extension RecoveryMethod {
    /// The templates' method for a delivery stored with `method`.
    public init(_ method: DeliveryMethod) {
        switch method {
        case .link: self = .link
        case .code: self = .code
        }
    }
}

import Kratos
import Mail
import Store
import Templates

/// Why one delivery attempt failed, in the terms the retry policy acts on. Built from the errors
/// of the parts (SMTP, Kratos, templates); the text is theirs and carries no secret.
public struct DeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the failure says about the next attempt (the store keeps it with the delivery).
    public typealias Class = ErrorClass

    public let errorClass: Class
    /// For a permanent failure: the failure to record.
    public let failure: DeliveryFailure?
    /// The least time to wait before the next attempt, when the server said so (`Retry-After`).
    public let retryAfter: Duration?
    /// Where it failed and what the other side said (`smtp`, `kratos`, `template`).
    public let source: String
    public let message: String

    public init(
        errorClass: Class,
        failure: DeliveryFailure? = nil,
        retryAfter: Duration? = nil,
        source: String,
        message: String
    ) {
        self.errorClass = errorClass
        self.failure = failure
        self.retryAfter = retryAfter
        self.source = source
        self.message = message
    }

    /// An SMTP failure: transient, permanent (`rejected`) or configuration, as the transport classed it.
    public init(_ error: SMTPError) {
        switch error.kind {
        case .transient: self.init(errorClass: .transient, source: "smtp", message: error.description)
        case .permanent:
            self.init(errorClass: .permanent, failure: .rejected, source: "smtp", message: error.description)
        case .configuration: self.init(errorClass: .configuration, source: "smtp", message: error.description)
        }
    }

    /// A Kratos failure at send time: a missing identity is permanent (`identity_gone`); a refused
    /// key or request is the operator's; the rest is transient.
    public init(_ error: KratosError) {
        switch error.kind {
        case .identityNotFound:
            self.init(errorClass: .permanent, failure: .identityGone, source: "kratos", message: error.description)
        case .badRequest, .unauthorized:
            self.init(errorClass: .configuration, source: "kratos", message: error.description)
        case .transient:
            self.init(
                errorClass: .transient,
                retryAfter: error.retryAfter,
                source: "kratos",
                message: error.description
            )
        }
    }

    /// A template that cannot render for this delivery: the operator's to fix.
    public init(_ error: TemplateError) {
        self.init(errorClass: .configuration, source: "template", message: error.description)
    }

    public var description: String { "\(errorClass.rawValue) (\(source)): \(message)" }
}

/// Why a document posted by Kratos's courier can never be sent: the member concerned (a dotted path,
/// `template_data.recovery_url`) and what is wrong. Never contains a member's value when it could be a
/// secret, so it can go into a problem answer and a log as it is.
public struct CourierMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The class of failure, stable for callers that map it to a problem `code`.
    public enum Kind: String, Sendable {
        /// Kratos v1.0's document (PascalCase keys, no `message_type`): not supported.
        case unsupportedKratosVersion
        /// `template_type` is not one of the email types the gateway knows.
        case unknownTemplateType
        /// `message_type` is not `email` (Kratos's courier also sends SMS).
        case unsupportedMessageType
        /// A member the message cannot do without is missing or empty.
        case missing
        /// A member has the wrong JSON type.
        case wrongType
        /// A member has the right type and an impossible value.
        case invalid
    }

    public let kind: Kind
    /// The member concerned, as a dotted path from the document's root (`""` for the document itself).
    public let field: String
    /// What is wrong, in words.
    public let message: String

    public init(_ kind: Kind, field: String, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

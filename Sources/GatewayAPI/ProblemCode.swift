/// The `code` of an `application/problem+json` answer: stable and machine-readable, the same
/// names in `openapi.yaml`, in the server that sends them and in the command line that reads them.
public enum ProblemCode: String, Sendable, CaseIterable {
    case unauthorized
    case insufficientScope = "insufficient_scope"
    case invalidParameter = "invalid_parameter"
    case notFound = "not_found"
    case storeUnavailable = "store_unavailable"
    case notReady = "not_ready"
    case `internal`
    case idempotencyKeyMissing = "idempotency_key_missing"
    case idempotencyKeyInvalid = "idempotency_key_invalid"
    case idempotencyKeyReused = "idempotency_key_reused"
    case bodyTooLarge = "body_too_large"
    case invalidJSON = "invalid_json"
    case invalidRequest = "invalid_request"
    case rateLimited = "rate_limited"
    case cooldown
    case identityNotFound = "identity_not_found"
    case identityAmbiguous = "identity_ambiguous"
    case noRecoveryAddress = "no_recovery_address"
    case recipientNotAllowed = "recipient_not_allowed"
    case kratosUnavailable = "kratos_unavailable"
    case unsupportedMediaType = "unsupported_media_type"
    case invalidCourierMessage = "invalid_courier_message"
    case unsupportedKratosVersion = "unsupported_kratos_version"
    case unknownTemplateType = "unknown_template_type"
    case unsupportedMessageType = "unsupported_message_type"
    case templateFailed = "template_failed"
    /// A batch cannot be paused, resumed or cancelled in its state (409).
    case batchState = "batch_state"

    /// The codes that mean the caller's own input was refused (a field or header of the request, a
    /// query parameter), as opposed to the operation failing: the command line exits 2 for them.
    public static let usage: Set<ProblemCode> = [
        .invalidRequest, .invalidJSON, .idempotencyKeyInvalid, .idempotencyKeyMissing, .invalidParameter,
    ]
}

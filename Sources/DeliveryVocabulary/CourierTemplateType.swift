/// A template type of Kratos's courier (`courier/template/type.go`, v1.1 – v26.2): what the message is
/// for, which `template_data` members it carries, and which of them is the secret the email must show.
public enum CourierTemplateType: String, Sendable, CaseIterable, Hashable {
    case recoveryValid = "recovery_valid"
    case recoveryInvalid = "recovery_invalid"
    case recoveryCodeValid = "recovery_code_valid"
    case recoveryCodeInvalid = "recovery_code_invalid"
    case verificationValid = "verification_valid"
    case verificationInvalid = "verification_invalid"
    case verificationCodeValid = "verification_code_valid"
    case verificationCodeInvalid = "verification_code_invalid"
    case loginCodeValid = "login_code_valid"
    case registrationCodeValid = "registration_code_valid"

    /// The `template_data` member holding the link or code the email exists to deliver, or `nil` for the
    /// `*_invalid` types (they tell the recipient that an attempt failed and carry no secret).
    public var secretKey: String? {
        switch self {
        case .recoveryValid: "recovery_url"
        case .recoveryCodeValid: "recovery_code"
        case .verificationValid: "verification_url"
        case .verificationCodeValid: "verification_code"
        case .loginCodeValid: "login_code"
        case .registrationCodeValid: "registration_code"
        case .recoveryInvalid, .recoveryCodeInvalid, .verificationInvalid, .verificationCodeInvalid: nil
        }
    }

    /// Every `template_data` member that holds a secret: the ``secretKey`` and, for
    /// `verification_code_valid`, the link that embeds the code.
    public var secretKeys: [String] {
        self == .verificationCodeValid ? ["verification_code", "verification_url"] : secretKey.map { [$0] } ?? []
    }

    /// The Mustache variable of the secret (Kratos's Go field name), or `nil` for the `*_invalid` types.
    public var secretVariable: String? { secretKey.flatMap(Self.variableName) }

    /// The Mustache variable for a `template_data` member: Kratos's Go field name for its JSON tag
    /// (`recovery_url` → `RecoveryURL`), the names Kratos's own templates use; `nil` for other members.
    public static func variableName(_ key: String) -> String? { variableNames[key] }

    private static let variableNames: [String: String] = [
        "to": "To",
        "recovery_url": "RecoveryURL",
        "recovery_code": "RecoveryCode",
        "verification_url": "VerificationURL",
        "verification_code": "VerificationCode",
        "login_code": "LoginCode",
        "registration_code": "RegistrationCode",
        "identity": "Identity",
        "traits": "Traits",
        "request_url": "RequestURL",
        "transient_payload": "TransientPayload",
        "expires_in_minutes": "ExpiresInMinutes",
    ]
}

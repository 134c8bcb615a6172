import JSONValue

/// The values a template can use, named after Kratos's courier template variables. Holds the recovery
/// link or code, so its description and mirror show neither.
public struct TemplateData: Sendable, CustomStringConvertible, CustomReflectable {
    /// The recipient address (`To`).
    public var to: String
    /// The recovery link (`RecoveryURL`); for the code method, optionally the page where the code is entered.
    public var recoveryURL: String?
    /// The recovery code (`RecoveryCode`), for the code method.
    public var recoveryCode: String?
    /// The identity's id (`Identity.id`).
    public var identityID: String
    /// The identity's traits (`Identity.traits`).
    public var traits: JSONValue
    /// Minutes until the link or code expires (`ExpiresInMinutes`).
    public var expiresInMinutes: Int
    /// The caller's transient payload (`TransientPayload`), an object or `null`.
    public var transientPayload: JSONValue

    public init(
        to: String,
        recoveryURL: String? = nil,
        recoveryCode: String? = nil,
        identityID: String,
        traits: JSONValue = .object([:]),
        expiresInMinutes: Int,
        transientPayload: JSONValue = .object([:])
    ) {
        self.to = to
        self.recoveryURL = recoveryURL
        self.recoveryCode = recoveryCode
        self.identityID = identityID
        self.traits = traits
        self.expiresInMinutes = expiresInMinutes
        self.transientPayload = transientPayload
    }

    public var description: String {
        "TemplateData(identityID: \(identityID), recoveryURL: \(recoveryURL == nil ? "nil" : "<redacted>"), "
            + "recoveryCode: \(recoveryCode == nil ? "nil" : "<redacted>"), expiresInMinutes: \(expiresInMinutes))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["identityID": identityID, "expiresInMinutes": expiresInMinutes])
    }
}

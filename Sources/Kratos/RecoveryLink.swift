public import Foundation

/// A recovery link Kratos created (`POST /admin/recovery/link`). Its `description` is redacted so
/// that interpolating it into a log never leaks the link.
public struct RecoveryLink: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The absolute link to send to the user: a secret.
    public let url: String
    /// When the link stops working.
    public let expiresAt: Date

    /// A link with the given fields.
    public init(url: String, expiresAt: Date) {
        self.url = url
        self.expiresAt = expiresAt
    }

    public var description: String { "RecoveryLink(url: <redacted>, expiresAt: \(expiresAt))" }
    public var debugDescription: String { description }
}

/// A recovery code Kratos created (`POST /admin/recovery/code`). Its `description` is redacted so
/// that interpolating it into a log never leaks the code or the flow link.
public struct RecoveryCode: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The absolute link to the recovery flow where the user enters the code.
    public let url: String
    /// The code the user enters (6 digits): a secret.
    public let code: String
    /// When the code stops working.
    public let expiresAt: Date

    /// A code with the given fields.
    public init(url: String, code: String, expiresAt: Date) {
        self.url = url
        self.code = code
        self.expiresAt = expiresAt
    }

    public var description: String { "RecoveryCode(url: <redacted>, code: <redacted>, expiresAt: \(expiresAt))" }
    public var debugDescription: String { description }
}

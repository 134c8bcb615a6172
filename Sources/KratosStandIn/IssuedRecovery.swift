/// A recovery link or code the stand-in issued: what would reach the user. Listed by
/// `GET /stand-in/issued` so tests can check what was sent.
public struct IssuedRecovery: Sendable, Codable, Equatable {
    /// `link` or `code`.
    public let method: String
    /// The identity it recovers.
    public let identityID: String
    /// The recovery flow's id.
    public let flowID: String
    /// The link as answered (relative for codes with `--relative-code-links`).
    public let recoveryLink: String
    /// The 6-digit code (codes only).
    public let recoveryCode: String?
    /// The `expires_in` text the caller sent, if any.
    public let expiresIn: String?
    /// The `expires_at` text as answered.
    public let expiresAt: String

    enum CodingKeys: String, CodingKey {
        case method
        case identityID = "identity_id"
        case flowID = "flow_id"
        case recoveryLink = "recovery_link"
        case recoveryCode = "recovery_code"
        case expiresIn = "expires_in"
        case expiresAt = "expires_at"
    }
}

/// A failure to inject on the next `count` calls to `path` (`POST /stand-in/faults`).
public struct InjectedFault: Sendable, Codable, Equatable {
    /// The request path it applies to; a trailing `*` makes it a prefix.
    public var path: String
    /// How many calls it still applies to.
    public var count: Int
    /// Answer with this status (a Kratos-shaped error body) instead of handling the call.
    public var status: Int?
    /// The `Retry-After` header to send with `status`.
    public var retryAfter: String?
    /// Close the connection without answering.
    public var drop: Bool?
    /// Wait this long before answering (or failing).
    public var delayMilliseconds: Int?

    /// A fault for the next `count` calls to `path`.
    public init(
        path: String,
        count: Int,
        status: Int? = nil,
        retryAfter: String? = nil,
        drop: Bool? = nil,
        delayMilliseconds: Int? = nil
    ) {
        self.path = path
        self.count = count
        self.status = status
        self.retryAfter = retryAfter
        self.drop = drop
        self.delayMilliseconds = delayMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case path
        case count
        case status
        case retryAfter = "retry_after"
        case drop
        case delayMilliseconds = "delay_ms"
    }

    func matches(_ requestPath: String) -> Bool {
        if path.hasSuffix("*") { return requestPath.hasPrefix(path.dropLast()) }
        return requestPath == path
    }
}

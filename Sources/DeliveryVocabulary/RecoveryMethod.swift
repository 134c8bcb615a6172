/// How the user recovers: by following a link or by typing a code. Every template serves exactly one.
public enum RecoveryMethod: String, Sendable, Hashable, Codable, CaseIterable {
    case link
    case code

    /// The template variable this method cannot do without.
    public var requiredVariable: String {
        switch self {
        case .link: "RecoveryURL"
        case .code: "RecoveryCode"
        }
    }
}

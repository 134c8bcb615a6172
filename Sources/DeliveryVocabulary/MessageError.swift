/// Why a message could not be built: a bad address, or a header value that would break the header.
///
/// The texts name the field and what is wrong with it, never the value itself: a value may be a
/// full email address, which must not reach a log in clear.
public enum MessageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A header input (display name, subject, …) contains CR or LF, which would start a new header.
    case lineBreakInHeader(field: String)
    /// A header input contains a control character other than CR/LF (NUL, ESC, …).
    case controlCharacterInHeader(field: String)
    /// An address does not follow RFC 5321 mailbox syntax; `reason` says which rule it breaks.
    case invalidAddress(field: String, reason: String)
    /// A Message-ID is not `<left@right>` in RFC 5322 `msg-id` syntax.
    case invalidMessageID(reason: String)

    public var description: String {
        switch self {
        case .lineBreakInHeader(let field):
            return "\(field): line breaks (CR or LF) are not allowed in a header value"
        case .controlCharacterInHeader(let field):
            return "\(field): control characters are not allowed in a header value"
        case .invalidAddress(let field, let reason):
            return "\(field): not a valid email address: \(reason)"
        case .invalidMessageID(let reason):
            return "Message-ID: \(reason)"
        }
    }
}

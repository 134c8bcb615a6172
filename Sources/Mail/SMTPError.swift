/// A failed delivery, classified for the retry policy.
///
/// - ``Kind/transient``: try again later (4xx replies, refused or dropped connections, timeouts).
/// - ``Kind/permanent``: this recipient or message will never be accepted (5xx to MAIL, RCPT or
///   DATA); retrying is pointless.
/// - ``Kind/configuration``: the operator must fix something (TLS verification failed, STARTTLS
///   unavailable when required, authentication refused). Such a failure says nothing about the
///   message, so it must not use up the message's attempts as a permanent failure would.
///
/// The text carries the server's reply (sanitized to printable ASCII) or libcurl's description;
/// it never contains the password.
public struct SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class the retry policy acts on.
    public enum Kind: String, Sendable {
        case transient
        case permanent
        case configuration
    }

    /// The SMTP step that failed.
    public enum Stage: String, Sendable {
        case connect
        case greeting
        case ehlo
        case startTLS = "starttls"
        case auth
        case mailFrom = "mail"
        case rcptTo = "rcpt"
        case data
        /// After the message content: the reply to the final ".".
        case endOfData = "end-of-data"
    }

    public let kind: Kind
    public let stage: Stage
    /// The server's reply code, when the failure was a reply.
    public let code: Int?
    /// The server's reply text or libcurl's description of the failure.
    public let message: String

    public init(kind: Kind, stage: Stage, code: Int?, message: String) {
        self.kind = kind
        self.stage = stage
        self.code = code
        self.message = message
    }

    public var description: String {
        let codeText = code.map { " \($0)" } ?? ""
        return "SMTP \(kind.rawValue) failure at \(stage.rawValue)\(codeText): \(message)"
    }
}

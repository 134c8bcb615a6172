import Mail

/// What a delivery needs from the mail side: send one message, get the server's final reply.
/// `SMTPTransport` is the real one.
public protocol MailSending: Sendable {
    func send(_ message: EmailMessage) async throws(SMTPError) -> SMTPReceipt
}

extension SMTPTransport: MailSending {}

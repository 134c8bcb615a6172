import Kratos
import Mail

/// What a delivery needs from Kratos: the identity and a fresh recovery link or code.
/// `KratosClient` is the real one; tests may substitute any other.
public protocol RecoveryIssuing: Sendable {
    func identity(id: String) async throws(KratosError) -> Identity
    func createRecoveryLink(identityID: String, expiresIn: KratosDuration) async throws(KratosError) -> RecoveryLink
    func createRecoveryCode(identityID: String, expiresIn: KratosDuration) async throws(KratosError) -> RecoveryCode
}

extension KratosClient: RecoveryIssuing {}

/// What a delivery needs from the mail side: send one message, get the server's final reply.
/// `SMTPTransport` is the real one.
public protocol MailSending: Sendable {
    func send(_ message: EmailMessage) async throws(SMTPError) -> SMTPReceipt
}

extension SMTPTransport: MailSending {}

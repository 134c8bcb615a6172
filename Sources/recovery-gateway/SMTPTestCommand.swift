import ArgumentParser
import Foundation
import Mail

/// `recovery-gateway smtp-test`: sends one test email, to check an SMTP URL before the gateway uses it.
struct SMTPTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtp-test",
        abstract: "Send one test email through the SMTP transport, to check a server URL."
    )

    @Option(help: "SMTP server URL in Kratos's courier syntax, e.g. smtp://user:pass@host:587/.")
    var url: String

    @Option(help: "File holding the SMTP password, instead of a password in the URL.")
    var passwordFile: String?

    @Option(help: "PEM file of CA certificates to trust instead of the system's.")
    var caFile: String?

    @Option(help: "Sender address.")
    var from: String = "no-reply@example.com"

    @Option(help: "Recipient address.")
    var to: String

    @Option(help: "Seconds to wait for the server.")
    var timeout: Int = 10

    func run() async throws {
        let smtp: SMTPConfiguration
        let message: EmailMessage
        do {
            smtp = try SMTPConfiguration(
                url: url,
                passwordFile: passwordFile,
                caFile: caFile,
                timeout: .seconds(timeout)
            )
            let sender = try EmailAddress(from, field: "from")
            message = try EmailMessage(
                from: Mailbox(displayName: "recovery-gateway", address: sender),
                to: Mailbox(address: EmailAddress(to, field: "to")),
                subject: "recovery-gateway SMTP test",
                text: "This is a test message from recovery-gateway.\nIf you can read it, the SMTP settings work.\n",
                messageID: .generate(domain: sender.domain)
            )
        } catch {
            throw ValidationError("\(error)")
        }
        let transport: SMTPTransport
        do {
            transport = try SMTPTransport(configuration: smtp, connections: 1)
        } catch {
            throw operationFailed("\(error)")
        }
        let result: Result<SMTPReceipt, SMTPError>
        do {
            result = .success(try await transport.send(message))
        } catch {
            result = .failure(error)
        }
        await transport.shutdown()
        switch result {
        case .success(let receipt):
            print("sent \(message.messageID) via \(smtp): \(receipt.reply)")
        case .failure(let error):
            throw operationFailed("\(error)")
        }
    }
}

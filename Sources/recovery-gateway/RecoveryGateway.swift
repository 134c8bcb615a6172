import ArgumentParser

/// The `recovery-gateway` command line.
@main
struct RecoveryGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery-gateway",
        abstract: "Sends Ory Kratos account-recovery emails.",
        version: "0.1.0",
        subcommands: [SMTPTestCommand.self]
    )
}

import ArgumentParser
import Foundation

/// The `recovery-gateway` command line.
///
/// Exit codes: 0 success, 1 the operation failed (one line on stderr), 2 bad usage.
@main
struct RecoveryGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery-gateway",
        abstract: "Sends Ory Kratos account-recovery emails.",
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, AuditCommand.self, KeysCommand.self, SMTPTestCommand.self,
        ]
    )

    /// Runs the command, with argument-parser's usage exit code (64) mapped to 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Ends the command with exit code 1 after one line on stderr: the operation failed.
func operationFailed(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("recovery-gateway: \(message)\n".utf8))
    return ExitCode(1)
}

import ArgumentParser
import Foundation
import Wiring

/// The `recovery-gateway` command line.
///
/// Exit codes: 0 success, 1 the operation failed, 2 bad usage; either failure prints one line on stderr.
@main
struct RecoveryGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery-gateway",
        abstract: "Sends Ory Kratos account-recovery emails.",
        discussion: "Exit codes: 0 success, 1 the operation failed, 2 bad usage (one line on stderr).",
        version: GatewayVersion.current,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, SendCommand.self, BatchCommand.self, StatusCommand.self,
            ListCommand.self, AuditCommand.self, TemplatesCommand.self, KeysCommand.self, SMTPTestCommand.self,
        ]
    )

    /// Runs the command, with argument-parser's usage exit code (64) mapped to 2 and its
    /// usage errors shortened to one line.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let problem as APIProblem {
            FileHandle.standardError.write(Data("recovery-gateway: the gateway refused: \(problem)\n".utf8))
            Foundation.exit(problem.isUsageError ? 2 : 1)
        } catch {
            if exitCode(for: error) == .validationFailure {
                let text = oneLine(message(for: error))
                FileHandle.standardError.write(Data("recovery-gateway: \(text) (see --help)\n".utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Ends the command with exit code 1 after one line on stderr: the operation failed.
func operationFailed(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("recovery-gateway: \(oneLine(message))\n".utf8))
    return ExitCode(1)
}

/// `text` with line breaks turned into spaces, so that an error stays on one line.
func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).joined(separator: " ")
}

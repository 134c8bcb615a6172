import ArgumentParser
import Audit
import Domain
import Foundation
import GatewayConfiguration

/// `recovery-gateway keys new`: makes an API key and the configuration line that admits it.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make API keys.",
        subcommands: [New.self]
    )

    /// `keys new --name N --scope S…`.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random API key (once: it is stored nowhere) and the api_keys entry with its SHA-256."
        )

        @Option(help: "The key's name: the actor in the audit log.")
        var name: String

        @Option(
            name: .customLong("scope"),
            help: "A scope to grant (repeat): recovery:send, recovery:send:any-recipient, recovery:read, audit:read."
        )
        var scopes: [String]

        func validate() throws {
            guard !name.isEmpty,
                name.unicodeScalars.allSatisfy({
                    $0.isASCII && $0.properties.isAlphabetic || "0123456789-_.@".unicodeScalars.contains($0)
                })
            else { throw ValidationError("--name must be letters, digits, - _ . or @ (alice@support)") }
            guard !scopes.isEmpty else { throw ValidationError("give at least one --scope") }
            for scope in scopes where APIKey.Scope(rawValue: scope) == nil {
                throw ValidationError(
                    "--scope \(scope) is not one of \(APIKey.Scope.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
        }

        func run() throws {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let key = "rg_" + Hex.encode(bytes)
            let ordered = APIKey.Scope.allCases.map(\.rawValue).filter(scopes.contains)
            print("key: \(key)")
            print(
                "  - { name: \(name), sha256: \"\(APIKey.sha256Hex(of: key))\", scopes: [\(ordered.joined(separator: ", "))] }"
            )
        }
    }
}

import ArgumentParser
import Audit
import Foundation
import GatewayConfiguration
import Store
import Wiring

/// `audit rotate-key --new-key-file F`: moves the audit chain to a new key (``AuditKeyRotation``).
struct AuditRotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Move the audit log to a new key, and print the configuration lines to change.",
        discussion: """
            Creates the new key file (32 random bytes, mode 0600), checks the log with the current key, appends \
            an audit.key_rotated event sealed under both keys, and prints the new audit.key_file and \
            audit.previous_key_files. Gateways still running with the old key refuse to write (503) until they \
            are restarted with those lines. Starting the gateways with the new key_file and the old key in \
            previous_key_files rotates as well, without this command.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("The new key file to create; it must not exist yet.", valueName: "file"))
    var newKeyFile: String

    func validate() throws {
        guard !newKeyFile.isEmpty else { throw ValidationError("--new-key-file must not be empty") }
    }

    func run() async throws {
        let configuration = try options.load()
        guard configuration.audit.key == nil else {
            throw ValidationError(
                "rotate-key moves audit.key_file to audit.previous_key_files; the key from "
                    + "\(ConfigurationLoader.auditKeyVariable) has no file to list there: put it in audit.key_file first"
            )
        }
        guard !FileManager.default.fileExists(atPath: newKeyFile) else {
            throw ValidationError("--new-key-file \(newKeyFile): the file exists; rotate-key creates the new key")
        }
        var rotated = configuration
        rotated.audit.keyFile = newKeyFile
        rotated.audit.previousKeyFiles = [configuration.audit.keyFile] + configuration.audit.previousKeyFiles
        // The current key must exist before the new one is made: its events would not verify otherwise.
        let old = try auditChain(configuration, createIfMissing: false)
        let chain = try auditChain(rotated, createIfMissing: true)
        let store: any GatewayStore
        do {
            store = try await GatewayRuntime.openStore(rotated, chain: chain)
        } catch {
            // Nothing was sealed with the new key: it goes, so that the command can be run again.
            try? FileManager.default.removeItem(atPath: newKeyFile)
            throw operationFailed("cannot rotate: \(error)")
        }
        let rotation: AuditEvent?
        do {
            rotation = try await GatewayRuntime.rotateAuditKeyIfNeeded(of: store, chain: chain)
            await store.close()
        } catch {
            await store.close()
            // Kept: a failed commit may still have sealed the rotation with it.
            throw operationFailed("cannot rotate (\(newKeyFile) is kept; see `audit verify`): \(error)")
        }
        if let rotation {
            print("rotated the audit log at seq \(rotation.seq): key id \(old.keyID) -> \(chain.keyID)")
        } else {
            print(
                "the audit log has no event sealed by another key: key id \(chain.keyID) seals from the next event on"
            )
        }
        print("Set these in the configuration of every gateway and restart them (until then they refuse to write):")
        print("audit:")
        print("  key_file: \(rotated.audit.keyFile)")
        print("  previous_key_files: [\(rotated.audit.previousKeyFiles.joined(separator: ", "))]")
        // Its default is beside key_file: spelled out, the checkpoints keep their signing key.
        print("  signing_key_file: \(configuration.audit.signingKeyFile)")
    }
}

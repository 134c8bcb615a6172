import Foundation
import GatewayConfiguration

/// A fresh directory per test, removed when the test is done with it.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `contents` to `name` in the directory and returns its path.
    func write(_ name: String, _ contents: String) throws -> String {
        let file = "\(path)/\(name)"
        try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = "\(path)/\(name)"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// Loads `yaml` with the given environment and flags; the error it raises, or `nil` if it loads.
func loadError(
    _ yaml: String,
    environment: [String: String] = [:],
    flags: [String: String] = [:]
) -> ConfigurationError? {
    do {
        _ = try ConfigurationLoader.load(yaml: yaml, source: "test.yaml", environment: environment, flags: flags)
        return nil
    } catch {
        return error
    }
}

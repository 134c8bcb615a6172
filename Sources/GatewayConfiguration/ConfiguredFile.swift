import Foundation

/// Files the configuration names (the configuration file itself, `smtp.ca_file`, the `*_file`
/// secrets), read whole; errors name the key and the path, never the content.
enum ConfiguredFile {
    /// The file's bytes; a missing or unreadable file is an error naming `key`.
    static func data(_ path: String, key: String) throws(ConfigurationError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError(key: key, problem: "the file \(path) does not exist")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: key, problem: "the file \(path) cannot be read")
        }
        return data
    }
}

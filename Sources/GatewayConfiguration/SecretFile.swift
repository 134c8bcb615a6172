import Foundation

/// Reads secrets from files (`*_file` keys); errors name the key and the path, never the content.
enum SecretFile {
    /// The file's text without surrounding white space and line ends; it must not be empty.
    static func readText(_ path: String, key: String) throws(ConfigurationError) -> Secret {
        let data = try ConfiguredFile.data(path, key: key)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(key: key, problem: "the file \(path) is not UTF-8 text")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ConfigurationError(key: key, problem: "the file \(path) is empty") }
        return Secret(trimmed)
    }
}

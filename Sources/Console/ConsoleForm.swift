import Foundation

/// A submitted HTML form (`application/x-www-form-urlencoded`): each field's first value, trimmed of
/// nothing (the domain checks values as the API does).
struct ConsoleForm: Sendable {
    let fields: [String: String]

    init(_ body: String) {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { continue }
            if fields[name] == nil { fields[name] = value }
        }
        self.fields = fields
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// The field's value, or nil when absent or only spaces.
    func nonEmpty(_ name: String) -> String? {
        guard let value = fields[name], !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return value
    }
}

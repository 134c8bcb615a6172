/// A precise, typed failure of the template catalog or the Kratos import: what is wrong and, when it
/// comes from a file, which file, line and column. Messages never contain rendered values (links, codes).
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure, stable for callers that map errors to API answers or exit codes.
    public enum Kind: String, Sendable {
        /// The locale string is not a well-formed BCP 47 language tag.
        case invalidLocale
        /// The template name is not `[a-z0-9_-]+`.
        case invalidName
        /// No template with that name exists in the catalog.
        case unknownTemplate
        /// The template serves the other recovery method, or the data lacks the link/code.
        case methodMismatch
        /// A Mustache template does not parse.
        case syntax
        /// A template never outputs the variable its method requires, or uses neither.
        case missingVariable
        /// The directory layout is wrong: unexpected or missing files, bad directory names.
        case layout
        /// A path (for example a symlink) leads outside the templates directory.
        case outsideDirectory
        /// A file or directory could not be read or written.
        case io
        /// A Go template uses a construct the importer does not convert.
        case unsupportedConstruct
    }

    public let kind: Kind
    /// The file concerned, when there is one.
    public let file: String?
    /// The 1-based line in `file`, when known.
    public let line: Int?
    /// The 1-based column in `line`, when known.
    public let column: Int?
    /// What is wrong, in words.
    public let message: String

    public init(_ kind: Kind, _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        var location = ""
        if let file {
            location = file
            if let line {
                location += ":\(line)"
                if let column { location += ":\(column)" }
            }
            location += ": "
        }
        return location + message
    }
}

/// Shortens and cleans caller-given text before it is quoted in an error (no control characters).
func quoted(_ text: String, limit: Int = 40) -> String {
    var cleaned = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    if cleaned.count > limit { cleaned = String(cleaned.prefix(limit)) + "…" }
    return "`\(cleaned)`"
}

/// The Go-template subset that real Kratos courier templates use, as a tree: text, field output
/// (`{{ .Var }}`, `{{ .Identity.traits.x }}`), `{{ if }}` and `{{ with }}` with `{{ else }}`,
/// `{{ else if }}`, `{{ else with }}`. Paths are made absolute (from the root) while parsing, so `with`
/// needs no scope at render time.
indirect enum GoNode: Equatable {
    case text(String)
    case output(path: [String], line: Int)
    /// `if` (or `with`, once its paths are made absolute): `then` when `condition` is truthy, else `otherwise`.
    case conditional(condition: [String], then: [GoNode], otherwise: [GoNode])
}

/// Parses the pieces from `GoLexer` into `GoNode`s and refuses, with file and line, every construct
/// outside the subset: pipelines, function calls, variables, literals, `range`, `template`, `define`,
/// `block`, `break`, `continue`, and fields recovery-gateway does not provide.
struct GoTemplateParser {
    /// The fields of Kratos's recovery template models that recovery-gateway provides.
    static let scalarFields: Set<String> = ["To", "RecoveryURL", "RecoveryCode", "ExpiresInMinutes"]

    /// Actions that are refused by their first word.
    static let unsupportedKeywords: Set<String> = [
        "range", "template", "define", "block", "break", "continue", "nil", "true", "false",
    ]

    let file: String
    private var pieces: ArraySlice<GoPiece>

    init(_ pieces: [GoPiece], file: String) {
        self.pieces = pieces[...]
        self.file = file
    }

    /// What ended a list of nodes.
    private enum Terminator {
        case endOfInput
        case end(line: Int)
        case elseBranch(line: Int)
        case elseIf(path: [String], isWith: Bool, line: Int)
    }

    mutating func parse() throws(TemplateError) -> [GoNode] {
        let (nodes, terminator) = try parseList(dot: [])
        switch terminator {
        case .endOfInput: return nodes
        case .end(let line): throw error("`{{ end }}` without an open `if` or `with`", line: line)
        case .elseBranch(let line), .elseIf(_, _, let line):
            throw error("`{{ else }}` without an open `if` or `with`", line: line)
        }
    }

    private mutating func parseList(dot: [String]) throws(TemplateError) -> ([GoNode], Terminator) {
        var nodes: [GoNode] = []
        while let piece = pieces.popFirst() {
            switch piece {
            case .text(let text):
                nodes.append(.text(text))
            case .action(let body, let line):
                let words = body.split(whereSeparator: { GoLexer.isGoSpace($0) }).map(String.init)
                if let keyword = words.first, Self.unsupportedKeywords.contains(keyword) {
                    throw unsupported("`{{ \(keyword) }}`", line: line)
                }
                try refuseUnsupportedSyntax(body, line: line)
                guard let keyword = words.first else { throw error("empty action `{{ }}`", line: line) }
                switch keyword {
                case "if", "with":
                    let path = try conditionPath(words, dot: dot, line: line)
                    nodes.append(try parseConditional(path: path, isWith: keyword == "with", dot: dot, line: line))
                case "else":
                    if words.count == 1 { return (nodes, .elseBranch(line: line)) }
                    guard words.count == 3, words[1] == "if" || words[1] == "with" else {
                        throw unsupported("`{{ \(body.trimmed) }}`", line: line)
                    }
                    let path = try conditionPath(Array(words.dropFirst()), dot: dot, line: line)
                    return (nodes, .elseIf(path: path, isWith: words[1] == "with", line: line))
                case "end":
                    guard words.count == 1 else { throw unsupported("`{{ \(body.trimmed) }}`", line: line) }
                    return (nodes, .end(line: line))
                default:
                    guard words.count == 1 else {
                        throw unsupported("the function call `\(keyword)` in `{{ \(body.trimmed) }}`", line: line)
                    }
                    let path = try absolutePath(keyword, dot: dot, line: line)
                    try checkPrintable(path, line: line)
                    nodes.append(.output(path: path, line: line))
                }
            }
        }
        return (nodes, .endOfInput)
    }

    private mutating func parseConditional(
        path: [String],
        isWith: Bool,
        dot: [String],
        line: Int
    ) throws(TemplateError) -> GoNode {
        let (then, terminator) = try parseList(dot: isWith ? path : dot)
        switch terminator {
        case .endOfInput:
            throw error("`{{ \(isWith ? "with" : "if") }}` is never closed with `{{ end }}`", line: line)
        case .end:
            return .conditional(condition: path, then: then, otherwise: [])
        case .elseBranch(let elseLine):
            let (otherwise, elseTerminator) = try parseList(dot: dot)
            guard case .end = elseTerminator else {
                throw error("`{{ else }}` is never closed with `{{ end }}`", line: elseLine)
            }
            return .conditional(condition: path, then: then, otherwise: otherwise)
        case .elseIf(let nextPath, let nextIsWith, let nextLine):
            // `{{ else if B }}…{{ end }}` is `{{ else }}{{ if B }}…{{ end }}{{ end }}` with one shared end.
            let nested = try parseConditional(path: nextPath, isWith: nextIsWith, dot: dot, line: nextLine)
            return .conditional(condition: path, then: then, otherwise: [nested])
        }
    }

    /// `if .X` / `with .X`: exactly one field path.
    private func conditionPath(_ words: [String], dot: [String], line: Int) throws(TemplateError) -> [String] {
        guard words.count == 2 else {
            let shown = words.joined(separator: " ")
            throw unsupported("`{{ \(shown) }}` (only `\(words[0]) .Field` is converted)", line: line)
        }
        let path = try absolutePath(words[1], dot: dot, line: line)
        guard !path.isEmpty else { throw unsupported("`{{ \(words[0]) . }}` on the whole data", line: line) }
        return path
    }

    /// `.A.b` relative to `dot`, checked against the fields recovery-gateway provides.
    private func absolutePath(_ word: String, dot: [String], line: Int) throws(TemplateError) -> [String] {
        guard word.hasPrefix(".") else { throw unsupported("`\(word)` (not a field like `.Name`)", line: line) }
        let relative = word == "." ? [] : word.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        var path = dot
        for component in relative {
            guard let first = component.first, first.isLetter || first == "_",
                component.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else {
                throw unsupported("the field reference `\(word)`", line: line)
            }
            path.append(String(component))
        }
        guard let root = path.first else { return path }
        if Self.scalarFields.contains(root) {
            guard path.count == 1 else { throw error("`.\(root)` has no fields (in `\(word)`)", line: line) }
        } else if root == "Identity" {
            guard path.count == 1 || path[1] == "id" || path[1] == "traits" else {
                throw error(
                    "`.\(path.joined(separator: "."))` is not available: recovery-gateway provides "
                        + "`.Identity.id` and `.Identity.traits` only",
                    line: line
                )
            }
        } else if root != "TransientPayload" {
            throw error(
                "`.\(root)` is not a field recovery-gateway provides (it has To, RecoveryURL, RecoveryCode, "
                    + "Identity, ExpiresInMinutes, TransientPayload)",
                line: line
            )
        }
        return path
    }

    /// Go prints maps as `map[…]`; printing the whole data or the whole identity is refused.
    private func checkPrintable(_ path: [String], line: Int) throws(TemplateError) {
        if path.isEmpty { throw unsupported("printing the whole data with `{{ . }}`", line: line) }
        let maps: [[String]] = [["Identity"], ["Identity", "traits"], ["TransientPayload"]]
        if maps.contains(path) {
            throw unsupported("printing the whole map `.\(path.joined(separator: "."))`", line: line)
        }
    }

    /// Syntax outside the subset, found by its characters: pipes, parentheses, variables, literals.
    private func refuseUnsupportedSyntax(_ body: String, line: Int) throws(TemplateError) {
        let constructs: [(Character, String)] = [
            ("|", "a pipeline `|`"), ("(", "a parenthesised expression"), ("$", "a variable `$`"),
            ("\"", "a string literal"), ("`", "a raw string literal"), ("'", "a character literal"),
            ("=", "an assignment"), (",", "a range assignment"),
        ]
        for (character, name) in constructs where body.contains(character) {
            throw unsupported("\(name) in `{{ \(body.trimmed) }}`", line: line)
        }
        if let first = body.trimmed.first, first.isNumber || first == "-" || first == "+" {
            throw unsupported("a number literal in `{{ \(body.trimmed) }}`", line: line)
        }
    }

    private func unsupported(_ construct: String, line: Int) -> TemplateError {
        TemplateError(.unsupportedConstruct, "unsupported Go template construct: \(construct)", file: file, line: line)
    }

    private func error(_ message: String, line: Int) -> TemplateError {
        TemplateError(.unsupportedConstruct, message, file: file, line: line)
    }
}

extension String {
    /// The string without Go-template white space at both ends.
    var trimmed: String {
        String(drop(while: GoLexer.isGoSpace).reversed().drop(while: GoLexer.isGoSpace).reversed())
    }
}

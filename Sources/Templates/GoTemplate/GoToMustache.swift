import Mustache

/// Converts a Go template of the supported subset into Mustache text that renders the same output
/// with recovery-gateway's data: `{{ .X.y }}` → `{{X.y}}`; `{{ if .X }}A{{ else }}B{{ end }}` →
/// `{{#truthy(X)}}A{{/truthy(X)}}{{^truthy(X)}}B{{/truthy(X)}}` (a boolean section: no scope change,
/// Go truthiness); `with` the same, its `.field`s made absolute. Mustache drops a section tag that stands
/// alone on its line together with the line break, Go does not, so such tags get an empty comment
/// `{{!}}` before them to keep every line break Go would output.
enum GoToMustache {
    /// Converts `source` (the content of `file`); `html` only affects the final parse check.
    static func convert(_ source: String, file: String, html: Bool) throws(TemplateError) -> String {
        let pieces = try GoLexer.split(source, file: file)
        var parser = GoTemplateParser(pieces, file: file)
        let nodes = try parser.parse()
        var output: [Output] = []
        try emit(nodes, into: &output, file: file)
        try checkBrace(before: output, file: file, line: nil)
        let mustache = protectStandaloneTags(output)
        // The result must parse; a failure here is a bug in the converter, reported as such.
        do {
            _ = try MustacheTemplate.parse(mustache, kind: html ? .html : .text, file: file)
        } catch {
            throw TemplateError(
                .syntax,
                "internal error: converted template does not parse (\(error.message))",
                file: file
            )
        }
        return mustache
    }

    /// Converted output before line-level fix-ups: text, or a tag and whether Mustache may treat it as
    /// standalone (sections and their ends can be, variables never are).
    enum Output {
        case text(String)
        case tag(String, sectionLike: Bool)
    }

    private static func emit(_ nodes: [GoNode], into output: inout [Output], file: String) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let text):
                output.append(.text(text))
            case .output(let path, let line):
                try checkBrace(before: output, file: file, line: line)
                output.append(.tag("{{\(path.joined(separator: "."))}}", sectionLike: false))
            case .conditional(let condition, let then, let otherwise):
                let name = "truthy(\(condition.joined(separator: ".")))"
                try checkBrace(before: output, file: file, line: nil)
                if !then.isEmpty {
                    output.append(.tag("{{#\(name)}}", sectionLike: true))
                    try emit(then, into: &output, file: file)
                    try checkBrace(before: output, file: file, line: nil)
                    output.append(.tag("{{/\(name)}}", sectionLike: true))
                }
                if !otherwise.isEmpty {
                    output.append(.tag("{{^\(name)}}", sectionLike: true))
                    try emit(otherwise, into: &output, file: file)
                    try checkBrace(before: output, file: file, line: nil)
                    output.append(.tag("{{/\(name)}}", sectionLike: true))
                }
            }
        }
    }

    /// Text ending in `{` right before a tag would turn `{{` into the triple mustache `{{{`, and at the
    /// end of the template Mustache reads it as a tag never closed (found by `scripts/fuzz.sh go-template`).
    private static func checkBrace(before output: [Output], file: String, line: Int?) throws(TemplateError) {
        if case .text(let text) = output.last, text.hasSuffix("{") {
            throw TemplateError(
                .unsupportedConstruct,
                "a `{` directly before an action, `{{ else }}`, `{{ end }}` or the end of the template cannot be "
                    + "expressed in Mustache (it would read `{{{` or an unclosed tag)",
                file: file,
                line: line
            )
        }
    }

    /// Joins the output, putting `{{!}}` before a section-like tag that would otherwise be alone on its
    /// line (only white space around it), which Mustache would strip together with the line break.
    static func protectStandaloneTags(_ output: [Output]) -> String {
        var result = ""
        for (index, item) in output.enumerated() {
            switch item {
            case .text(let text):
                result += text
            case .tag(let tag, let sectionLike):
                if sectionLike, lineIsBlank(before: index, in: output), lineIsBlank(after: index, in: output) {
                    result += "{{!}}"
                }
                result += tag
            }
        }
        return result
    }

    private static func lineIsBlank(before index: Int, in output: [Output]) -> Bool {
        for item in output[..<index].reversed() {
            guard case .text(let text) = item else { return false }
            if let newline = text.lastIndex(where: \.isNewline) {
                return text[text.index(after: newline)...].allSatisfy { $0 == " " || $0 == "\t" }
            }
            guard text.allSatisfy({ $0 == " " || $0 == "\t" }) else { return false }
        }
        return true
    }

    private static func lineIsBlank(after index: Int, in output: [Output]) -> Bool {
        for item in output[(index + 1)...] {
            guard case .text(let text) = item else { return false }
            if let newline = text.firstIndex(where: \.isNewline) {
                return text[..<newline].allSatisfy { $0 == " " || $0 == "\t" }
            }
            guard text.allSatisfy({ $0 == " " || $0 == "\t" }) else { return false }
        }
        return true
    }
}

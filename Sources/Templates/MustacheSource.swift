import Foundation
import Mustache

/// Which output a template produces, which decides whether data is HTML-escaped.
enum OutputKind: Sendable {
    /// The subject and the text body: data goes out as is.
    case text
    /// The HTML body: data is HTML-escaped (``HTMLEscaping``) unless the template asks otherwise
    /// (`{{{ }}}`, `{{& }}`).
    case html
}

extension MustacheTemplate {
    /// The pragma that switches swift-mustache (HTML by default) to plain text; the HTML body's is
    /// ``HTMLEscaping/pragma``. Each goes on a line of its own, which Mustache removes as a standalone
    /// tag, so the template's own text is untouched; error line numbers are shifted back by that one line.
    private static let textPragma = "{{% CONTENT_TYPE: TEXT }}\n"

    /// Parses `source` for `kind` output; a syntax error names `file`, line, column and what is wrong.
    static func parse(_ source: String, kind: OutputKind, file: String) throws(TemplateError) -> MustacheTemplate {
        let prefixLines = 1
        do {
            return try MustacheTemplate(string: (kind == .text ? textPragma : HTMLEscaping.pragma) + source)
        } catch let error as MustacheTemplate.ParserError {
            guard let reason = (error.error as? MustacheTemplate.Error).map(Self.explain) else {
                // swift-mustache's reader ran off the end: a tag opened somewhere is never closed.
                let (line, column) = Self.lastUnclosedTag(in: source)
                throw TemplateError(.syntax, "a tag `{{` is never closed", file: file, line: line, column: column)
            }
            let line = max(1, error.context.lineNumber - prefixLines)
            let excerpt = error.context.line.trimmingCharacters(in: .whitespaces)
            throw TemplateError(
                .syntax,
                excerpt.isEmpty ? reason : "\(reason) (in `\(excerpt.prefix(80))`)",
                file: file,
                line: line,
                column: error.context.columnNumber
            )
        } catch {
            throw TemplateError(.syntax, "does not parse: \(error)", file: file)
        }
    }

    /// Line and column of the last `{{` that has no `}}` after it.
    private static func lastUnclosedTag(in source: String) -> (Int?, Int?) {
        guard let open = source.range(of: "{{", options: .backwards),
            source[open.upperBound...].range(of: "}}") == nil
        else { return (nil, nil) }
        let before = source[..<open.lowerBound]
        let line = before.count { $0 == "\n" } + 1
        let column =
            before.distance(
                from: before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex,
                to: before.endIndex
            ) + 1
        return (line, column)
    }

    private static func explain(_ error: MustacheTemplate.Error) -> String {
        switch error {
        case .sectionCloseNameIncorrect: "closing tag does not match the section that is open"
        case .unfinishedName: "unfinished or malformed tag"
        case .expectedSectionEnd: "a section is opened but never closed"
        case .invalidSetDelimiter: "malformed set-delimiter tag"
        case .transformAppliedToInheritanceSection: "a transform cannot be applied to a block"
        case .illegalTokenInsideInheritSection: "only blocks may appear inside a parent tag"
        case .textInsideInheritSection: "text inside a parent tag"
        case .invalidConfigVariableSyntax: "malformed pragma tag (expected `{{% NAME: VALUE }}`)"
        case .unrecognisedConfigVariable: "unknown pragma or content type"
        }
    }
}

import Foundation

/// One piece of a Go template source: literal text, or the body of an action `{{ … }}` with the line it
/// starts on. Trim markers (`{{- ` and ` -}}`) are applied to the neighbouring text while lexing, and
/// comments (`{{/* … */}}`) are dropped, as Go's `text/template` does.
enum GoPiece: Equatable {
    case text(String)
    case action(String, line: Int)
}

/// Splits a Go template into text and actions (the lexing part of Go's `text/template/parse`).
enum GoLexer {
    static func split(_ source: String, file: String) throws(TemplateError) -> [GoPiece] {
        var pieces: [GoPiece] = []
        var rest = Substring(source)
        var line = 1
        var trimNextText = false
        while true {
            guard let open = rest.range(of: "{{") else {
                appendText(rest, trimLeading: trimNextText, trimTrailing: false, to: &pieces)
                return pieces
            }
            let before = rest[rest.startIndex..<open.lowerBound]
            line += before.count { $0 == "\n" }
            var body = rest[open.upperBound...]
            var trimBefore = false
            if body.first == "-", let next = body.dropFirst().first, isGoSpace(next) {
                trimBefore = true
                body = body.dropFirst()
            }
            appendText(before, trimLeading: trimNextText, trimTrailing: trimBefore, to: &pieces)
            let actionLine = line
            let afterSpace = body.drop(while: isGoSpace)
            let closeSearch: Substring
            let isComment = afterSpace.hasPrefix("/*")
            if isComment {
                // A comment ends at `*/`, directly followed by `}}` or ` -}}`.
                guard let end = afterSpace.range(of: "*/") else {
                    throw TemplateError(.syntax, "unclosed comment", file: file, line: actionLine)
                }
                closeSearch = afterSpace[end.upperBound...]
            } else {
                closeSearch = body
            }
            guard let close = closeSearch.range(of: "}}") else {
                throw TemplateError(.syntax, "unclosed action (no `}}`)", file: file, line: actionLine)
            }
            var inside = body[body.startIndex..<close.lowerBound]
            trimNextText = false
            if inside.hasSuffix("-"), let beforeDash = inside.dropLast().last, isGoSpace(beforeDash) {
                trimNextText = true
                inside = inside.dropLast()
            }
            if isComment {
                let tail = closeSearch[closeSearch.startIndex..<close.lowerBound]
                guard tail.isEmpty || tail == " -" else {
                    throw TemplateError(
                        .syntax,
                        "comment must end with `*/}}` or `*/ -}}`",
                        file: file,
                        line: actionLine
                    )
                }
            } else {
                pieces.append(.action(String(inside), line: actionLine))
            }
            line += rest[open.lowerBound..<close.upperBound].count { $0 == "\n" }
            rest = rest[close.upperBound...]
        }
    }

    /// Go's trim markers remove spaces, tabs, carriage returns and newlines.
    static func isGoSpace(_ character: Character) -> Bool {
        character == " " || character == "\t" || character == "\n" || character == "\r" || character == "\r\n"
    }

    private static func appendText(
        _ text: Substring,
        trimLeading: Bool,
        trimTrailing: Bool,
        to pieces: inout [GoPiece]
    ) {
        var text = text
        if trimLeading { text = text.drop(while: isGoSpace) }
        if trimTrailing {
            while let last = text.last, isGoSpace(last) { text = text.dropLast() }
        }
        if !text.isEmpty { pieces.append(.text(String(text))) }
    }
}

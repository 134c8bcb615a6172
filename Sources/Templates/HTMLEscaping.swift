import Mustache

/// How every `{{value}}` of an HTML template (an email's HTML body, a console page) is escaped:
/// the bytes `<`, `>`, `&`, `"` and `'` of its UTF-8 become `&lt;`, `&gt;`, `&amp;`, `&quot;`
/// and `&#39;`; every other byte is kept.
///
/// swift-mustache's own HTML escaping compares Swift `Character`s, and a quote followed by a
/// combining mark (`"\u{301}`) is one `Character` that is not a quote, so it went out raw: the
/// browser reads the quote byte and closes the attribute the value stood in (`href="…"\u{301}
/// onmouseover=…`). An identity's traits and a courier's payload come from outside, so the escaping
/// works on bytes, which a combining mark cannot hide. Working on bytes is also about a tenth of the
/// cost: the link in an email's HTML body is escaped for every email.
public enum HTMLEscaping {
    /// The line that makes a template escape with ``escape(_:)``: put it before the template's
    /// source. Mustache removes it as a standalone tag, so the output starts with the source's
    /// first line; a syntax error's line number is one more than in the source.
    public static let pragma: String = {
        MustacheContentTypes.register(ByteHTML(), named: contentTypeName)
        return "{{% CONTENT_TYPE: \(contentTypeName) }}\n"
    }()

    private static let contentTypeName = "GATEWAY_HTML"

    /// `text` with its `<`, `>`, `&`, `"` and `'` bytes escaped (see the type's comment).
    public static func escape(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            guard let first = bytes.firstIndex(where: needsEscape) else { return nil }
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count + 16)
            output.append(contentsOf: bytes[..<first])
            for byte in bytes[first...] {
                switch byte {
                case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
                case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
                case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
                case UInt8(ascii: "\""): output.append(contentsOf: "&quot;".utf8)
                case UInt8(ascii: "'"): output.append(contentsOf: "&#39;".utf8)
                default: output.append(byte)
                }
            }
            return String(decoding: output, as: UTF8.self)
        } ?? text
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), UInt8(ascii: "\""), UInt8(ascii: "'"): true
        default: false
        }
    }

    /// The content type the ``pragma`` names.
    private struct ByteHTML: MustacheContentType {
        func escapeText(_ text: String) -> String { HTMLEscaping.escape(text) }
    }
}

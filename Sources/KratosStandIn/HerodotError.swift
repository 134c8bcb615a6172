import Foundation
public import Hummingbird

/// An error answer shaped as Kratos writes it (herodot's `DefaultError` in an `error` envelope,
/// fields in Go's struct order, HTML characters escaped as Go's encoder does).
public struct HerodotError: Error, Sendable, Equatable {
    /// HTTP status code (also `error.code`).
    public let code: Int
    /// `error.status`: the status text.
    public let statusText: String
    /// `error.reason`, omitted when `nil`.
    public let reason: String?
    /// `error.message`.
    public let message: String

    /// An error with the given fields.
    public init(code: Int, status: String, reason: String?, message: String) {
        self.code = code
        self.statusText = status
        self.reason = reason
        self.message = message
    }

    /// herodot `ErrBadRequest` with a reason.
    static func badRequest(_ reason: String) -> Self {
        Self(
            code: 400,
            status: "Bad Request",
            reason: reason,
            message: "The request was malformed or contained invalid parameters"
        )
    }

    /// `sqlcon.ErrNoRows`, optionally with a reason.
    static func noRows(reason: String? = nil) -> Self {
        Self(code: 404, status: "Not Found", reason: reason, message: "Unable to locate the resource")
    }

    /// herodot `ErrUnauthorized`.
    static let unauthorized = Self(
        code: 401,
        status: "Unauthorized",
        reason: nil,
        message: "The request could not be authorized"
    )

    /// `sqlcon.ErrUniqueViolation`.
    static func conflict(_ reason: String) -> Self {
        Self(
            code: 409,
            status: "Conflict",
            reason: reason,
            message: "Unable to insert or update resource because a resource with that value exists already"
        )
    }

    /// A generic error for an injected status (herodot's defaults where it has one).
    static func injected(status code: Int) -> Self {
        let text = HTTPResponse.Status(code: code).reasonPhrase
        let message: String =
            switch code {
            case 400: "The request was malformed or contained invalid parameters"
            case 401: "The request could not be authorized"
            case 403: "The requested action was forbidden"
            case 404: "The requested resource could not be found"
            case 409: "The resource could not be created due to a conflict"
            case 500: "An internal server error occurred, please contact the system administrator"
            default: text
            }
        return Self(code: code, status: text, reason: nil, message: message)
    }

    /// The JSON body, followed by a newline as Go's `json.Encoder` writes it.
    public var body: String {
        var text = "{\"error\":{\"code\":\(code),\"status\":\(GoJSON.quote(statusText))"
        if let reason { text += ",\"reason\":\(GoJSON.quote(reason))" }
        text += ",\"message\":\(GoJSON.quote(message))}}\n"
        return text
    }

    /// The whole HTTP answer.
    var response: Response {
        Response(
            status: .init(code: code),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}

extension HerodotError: HTTPResponseError {
    /// The HTTP status of the answer.
    public var status: HTTPResponse.Status { .init(code: code) }

    public func response(from request: Request, context: some RequestContext) throws -> Response { response }
}

/// JSON string quoting as Go's `encoding/json` does it (HTML-safe: `<`, `>`, `&` become `\u003c` …).
enum GoJSON {
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + hex4(scalar.value)
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}

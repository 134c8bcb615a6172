import GatewayAPI
import Hummingbird
import NIOCore

extension Request {
    /// The whole body, at most `limit` bytes (the configuration key `setting`); a longer one is
    /// refused with 413 `body_too_large` — at once, without reading it, when its `Content-Length`
    /// says so (the connection is then closed: ``RequestBodyHandler``).
    mutating func collectBody(limit: Int, setting: String) async throws -> ByteBuffer {
        let tooLarge = Problem(
            .contentTooLarge,
            code: .bodyTooLarge,
            title: "Body too large",
            detail: "the body is over \(limit) bytes (\(setting))",
            field: "body"
        )
        if let length = headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }
        do {
            return try await collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
    }
}

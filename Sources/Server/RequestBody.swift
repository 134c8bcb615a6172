import GatewayAPI
import Hummingbird
import NIOCore

extension Request {
    /// The whole body, at most `limit` bytes (the configuration key `setting`); a longer one is
    /// refused with 413 `body_too_large`.
    mutating func collectBody(limit: Int, setting: String) async throws -> ByteBuffer {
        do {
            return try await collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Problem(
                .contentTooLarge,
                code: .bodyTooLarge,
                title: "Body too large",
                detail: "the body is over \(limit) bytes (\(setting))",
                field: "body"
            )
        }
    }
}

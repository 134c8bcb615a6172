import Foundation
import Hummingbird
import JSONValue
import NIOCore

/// JSON answers as Kratos sends them (`Content-Type: application/json`, slashes and `&` unescaped).
enum JSONResponse {
    static func make(
        _ status: HTTPResponse.Status,
        body: ByteBuffer,
        headers: HTTPFields = [:]
    ) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    static func make(_ status: HTTPResponse.Status, json: JSONValue, headers: HTTPFields = [:]) -> Response {
        make(status, body: encode(json), headers: headers)
    }

    static func encode(_ json: JSONValue) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ByteBuffer(bytes: (try? encoder.encode(json)) ?? Data("null".utf8))
    }

    /// The request body parsed as JSON, or herodot's decode error.
    static func decodeBody(_ request: Request, context: StandInRequestContext) async throws -> JSONValue {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else {
            throw HerodotError.badRequest(
                "Unable to decode HTTP Request Body because its HTTP Header \"Content-Length\" is zero."
            )
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw HerodotError.badRequest("Unable to decode JSON payload: the body is not valid JSON")
        }
    }
}

extension JSONResponse {
    /// `Link` (RFC 8288), which Kratos uses for pagination.
    static let linkHeader = HTTPFields.Element.Name("Link")!
}

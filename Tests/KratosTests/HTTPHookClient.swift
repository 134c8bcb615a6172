import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Calls the stand-in's `/stand-in/…` test hooks.
struct HTTPHookClient {
    struct Failed: Error {
        let status: UInt
    }

    func post(_ url: String, body: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        guard response.status.code == 204 else { throw Failed(status: response.status.code) }
    }
}

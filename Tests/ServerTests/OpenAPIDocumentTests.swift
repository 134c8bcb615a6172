import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import TestSupport
import Testing

/// `GET /openapi.yaml` serves the repository's `openapi.yaml` from the binary itself.
@Suite struct OpenAPIDocumentTests {
    @Test func servedBytesAreTheRepositoryFile() async throws {
        let file = try Data(contentsOf: repositoryRoot.appendingPathComponent("openapi.yaml"))
        #expect(file.starts(with: Data("openapi: 3.1.0\n".utf8)))
        #expect(Data(OpenAPIDocument.bytes) == file)
        try await withGateway { client, _, _ in
            // No API key needed.
            let response = try await client.call(.get, "/openapi.yaml", key: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(response.headers[HTTPField.Name("X-Request-Id")!] != nil)
            #expect(Data(response.body.readableBytesView) == file)
        }
    }
}

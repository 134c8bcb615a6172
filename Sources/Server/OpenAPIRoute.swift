import HTTPTypes
import Hummingbird
import NIOCore

/// The gateway's OpenAPI document (`openapi.yaml` at the repository root), compiled into the binary so
/// that it is served without any file next to it, and always the one the binary was built with.
public enum OpenAPIDocument {
    /// The document, byte for byte as in the repository.
    public static var bytes: [UInt8] { PackageResources.openapi_yaml }

    /// The media type it is served as.
    public static let contentType = "application/yaml"
}

/// `GET /openapi.yaml`: the document, without authentication.
package struct OpenAPIRoute: Sendable {
    package init() {}

    package func add(to router: Router<GatewayRequestContext>) {
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: OpenAPIDocument.contentType],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes))
            )
        }
    }
}

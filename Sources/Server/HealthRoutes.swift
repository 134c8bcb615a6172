import Foundation
import GatewayAPI
import Hummingbird
import Store

/// `GET /health/alive` (the process answers) and `GET /health/ready` (the store answers and the
/// templates are loaded — they are, or the gateway would not have started).
package struct HealthRoutes: Sendable {
    let store: any GatewayStore

    package init(store: any GatewayStore) { self.store = store }

    package func add(to router: Router<GatewayRequestContext>) {
        router.get("health/alive") { _, _ in jsonResponse(Data(#"{"status":"ok"}"#.utf8)) }
        router.get("health/ready") { _, _ in
            do {
                try await store.ping()
                return jsonResponse(Data(#"{"status":"ok","store":"ok","templates":"ok"}"#.utf8))
            } catch {
                throw Problem(
                    .serviceUnavailable,
                    code: .notReady,
                    title: "Not ready",
                    detail: "the store does not answer"
                )
            }
        }
    }
}

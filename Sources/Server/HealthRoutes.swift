import Domain
import Foundation
import GatewayAPI
import Hummingbird
import Logging
import Store

/// `GET /health/alive` (the process answers) and `GET /health/ready` (the store answers, the
/// templates are loaded — they are, or the gateway would not have started — and no break of the
/// audit log was found: a broken log answers 503 `not_ready` naming the break, so that a load
/// balancer stops routing to the gateway until an operator has looked).
package struct HealthRoutes: Sendable {
    let store: any GatewayStore
    let alarm: AuditAlarm?

    package init(store: any GatewayStore, alarm: AuditAlarm? = nil) {
        self.store = store
        self.alarm = alarm
    }

    package func add(to router: Router<GatewayRequestContext>) {
        router.get("health/alive") { _, _ in jsonResponse(Data(#"{"status":"ok"}"#.utf8)) }
        router.get("health/ready") { _, context in
            if let broken = alarm?.broken {
                throw Problem(
                    .serviceUnavailable,
                    code: .notReady,
                    title: "Not ready",
                    detail: "the audit log is broken: \(broken)"
                )
            }
            do {
                try await store.ping()
                return jsonResponse(Data(#"{"status":"ok","store":"ok","templates":"ok"}"#.utf8))
            } catch {
                context.logger.warning("not ready: the store failed", metadata: ["error": "\(error)"])
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

import Audit
import Gateway
import GatewayConfiguration
import Store

// The initializers `GatewayApp` calls when it assembles the HTTP application: package access, so
// the parts stay out of the module's public interface.

extension APIKeyAuthenticator {
    package init(configuration: GatewayConfiguration) { self.configuration = configuration }
}

extension HTTPMetricsMiddleware {
    package init(metrics: GatewayMetrics) { self.metrics = metrics }
}

extension RequestIDMiddleware {
    package init() {}
}

extension AccessLogMiddleware {
    package init() {}
}

extension ProblemMiddleware {
    package init() {}
}

extension HealthRoutes {
    package init(store: any GatewayStore) { self.store = store }
}

extension OpenAPIRoute {
    package init() {}
}

extension RecoveryEmailRoutes {
    package init(
        accept: AcceptService,
        store: any GatewayStore,
        auth: APIKeyAuthenticator,
        signal: DeliverySignal,
        maxBodyBytes: Int
    ) {
        self.accept = accept
        self.store = store
        self.auth = auth
        self.signal = signal
        self.maxBodyBytes = maxBodyBytes
    }
}

extension AuditRoutes {
    package init(store: any GatewayStore, chain: AuditChain, auth: APIKeyAuthenticator) {
        self.store = store
        self.chain = chain
        self.auth = auth
    }
}

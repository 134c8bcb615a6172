import Kratos

/// The Kratos admin API as the gateway uses it (identities, fresh recovery links and codes), every
/// call timed into `recovery_gateway_kratos_request_duration_seconds{operation, result}`.
struct MeasuredKratos: Sendable {
    let base: KratosClient
    let metrics: GatewayMetrics

    /// Times the calls of `base`.
    init(_ base: KratosClient, metrics: GatewayMetrics) {
        self.base = base
        self.metrics = metrics
    }

    func identity(id: String) async throws(KratosError) -> Identity {
        try await measure("get_identity") { () async throws(KratosError) in try await base.identity(id: id) }
    }

    func identities(credentialsIdentifier: String) async throws(KratosError) -> [Identity] {
        try await measure("find_identities") { () async throws(KratosError) in
            try await base.identities(credentialsIdentifier: credentialsIdentifier)
        }
    }

    func createRecoveryLink(
        identityID: String,
        expiresIn: KratosDuration
    ) async throws(KratosError) -> RecoveryLink {
        try await measure("create_recovery_link") { () async throws(KratosError) in
            try await base.createRecoveryLink(identityID: identityID, expiresIn: expiresIn)
        }
    }

    func createRecoveryCode(
        identityID: String,
        expiresIn: KratosDuration
    ) async throws(KratosError) -> RecoveryCode {
        try await measure("create_recovery_code") { () async throws(KratosError) in
            try await base.createRecoveryCode(identityID: identityID, expiresIn: expiresIn)
        }
    }

    private func measure<T>(
        _ operation: String,
        _ call: () async throws(KratosError) -> T
    ) async throws(KratosError) -> T {
        let started = ContinuousClock.now
        do {
            let value = try await call()
            metrics.time(.kratosRequestDuration, [("operation", operation), ("result", "ok")], .now - started)
            return value
        } catch {
            let result = Self.result(error.kind)
            metrics.time(.kratosRequestDuration, [("operation", operation), ("result", result)], .now - started)
            throw error
        }
    }

    /// The `result` label of a failed call (Kratos's error kinds, in snake case).
    static func result(_ kind: KratosError.Kind) -> String {
        switch kind {
        case .identityNotFound: "identity_not_found"
        case .badRequest: "bad_request"
        case .unauthorized: "unauthorized"
        case .transient: "transient"
        }
    }
}

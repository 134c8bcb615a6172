import Kratos

/// A ``KratosAdmin`` that times every call of the one it wraps into
/// `recovery_gateway_kratos_request_duration_seconds{operation, result}`.
public struct MeasuredKratos: KratosAdmin {
    let base: any KratosAdmin
    let metrics: GatewayMetrics

    /// Times the calls of `base`.
    public init(_ base: any KratosAdmin, metrics: GatewayMetrics) {
        self.base = base
        self.metrics = metrics
    }

    public func identity(id: String) async throws(KratosError) -> Identity {
        try await measure("get_identity") { () async throws(KratosError) in try await base.identity(id: id) }
    }

    public func identities(credentialsIdentifier: String) async throws(KratosError) -> [Identity] {
        try await measure("find_identities") { () async throws(KratosError) in
            try await base.identities(credentialsIdentifier: credentialsIdentifier)
        }
    }

    public func createRecoveryLink(
        identityID: String,
        expiresIn: KratosDuration
    ) async throws(KratosError) -> RecoveryLink {
        try await measure("create_recovery_link") { () async throws(KratosError) in
            try await base.createRecoveryLink(identityID: identityID, expiresIn: expiresIn)
        }
    }

    public func createRecoveryCode(
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

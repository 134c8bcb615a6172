import Kratos

/// What the gateway needs from Kratos's admin API: identities, and fresh recovery links and codes.
/// `KratosClient` is the real one; tests may substitute any other.
public protocol KratosAdmin: Sendable {
    func identity(id: String) async throws(KratosError) -> Identity
    func identities(credentialsIdentifier: String) async throws(KratosError) -> [Identity]
    func createRecoveryLink(identityID: String, expiresIn: KratosDuration) async throws(KratosError) -> RecoveryLink
    func createRecoveryCode(identityID: String, expiresIn: KratosDuration) async throws(KratosError) -> RecoveryCode
}

extension KratosClient: KratosAdmin {}

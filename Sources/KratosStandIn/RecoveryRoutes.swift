import Foundation
import GoDuration
import Hummingbird
import JSONValue

/// `POST /admin/recovery/link` and `POST /admin/recovery/code`, following Kratos's
/// `createRecoveryLinkForIdentity` and `createRecoveryCodeForIdentity` step by step.
struct RecoveryRoutes {
    let state: StandInState
    let configuration: StandInConfiguration

    /// Kratos's default lifespan of the link and code methods.
    static let defaultLifespan: Int64 = 3_600_000_000_000

    func register(on group: RouterGroup<StandInRequestContext>) {
        group.post("recovery/link") { request, context in try await link(request, context: context) }
        group.post("recovery/code") { request, context in try await code(request, context: context) }
    }

    private func link(_ request: Request, context: StandInRequestContext) async throws -> Response {
        let body = try await JSONResponse.decodeBody(request, context: context)
        let identityID = try Self.identityID(body)
        let expiresInText = body["expires_in"]?.stringValue ?? ""
        let expiresIn = try Self.lifespan(expiresInText)
        guard expiresIn > 0 else {
            // Kratos's link handler echoes the text it was given (the code handler formats the duration).
            throw HerodotError.badRequest("Value from \"expires_in\" must be result to a future time: \(expiresInText)")
        }
        guard let identity = state.identity(id: identityID) else {
            throw HerodotError.badRequest("The requested identity id does not exist.")
        }
        let flowID = UUID().uuidString.lowercased()
        let token = Self.randomString(length: 32, alphabet: Self.alphanumeric)
        let query = GoTime.encodeQuery(["flow": flowID, "token": token])
        let recoveryLink = configuration.publicURL + "/self-service/recovery?" + query
        let expiresAt = GoTime.rfc3339(Date().addingTimeInterval(Double(expiresIn) / 1e9))
        state.record(
            IssuedRecovery(
                method: "link",
                identityID: identity.id,
                flowID: flowID,
                recoveryLink: recoveryLink,
                recoveryCode: nil,
                expiresIn: expiresInText.isEmpty ? nil : expiresInText,
                expiresAt: expiresAt
            )
        )
        let answer: JSONValue = .object(["expires_at": .string(expiresAt), "recovery_link": .string(recoveryLink)])
        return JSONResponse.make(.ok, json: answer)
    }

    private func code(_ request: Request, context: StandInRequestContext) async throws -> Response {
        let body = try await JSONResponse.decodeBody(request, context: context)
        let identityID = try Self.identityID(body)
        let expiresInText = body["expires_in"]?.stringValue ?? ""
        let expiresIn = try Self.lifespan(expiresInText)
        guard expiresIn > 0 else {
            throw HerodotError.badRequest(
                "Value from \"expires_in\" must result to a future time: \(GoDurationSyntax.format(expiresIn))"
            )
        }
        if let flowType = body["flow_type"]?.stringValue, flowType != "browser", flowType != "api" {
            throw HerodotError.badRequest("Value from \"flow_type\" is not valid: \"\(flowType)\"")
        }
        guard let identity = state.identity(id: identityID) else {
            throw HerodotError.noRows(reason: "could not find identity")
        }
        let flowID = UUID().uuidString.lowercased()
        let code = Self.randomString(length: 6, alphabet: Self.digits)
        let path = "/ui/recovery?" + GoTime.encodeQuery(["flow": flowID])
        let recoveryLink = configuration.relativeCodeLinks ? path : configuration.publicURL + path
        let expiresAt = GoTime.rfc3339(Date().addingTimeInterval(Double(expiresIn) / 1e9))
        state.record(
            IssuedRecovery(
                method: "code",
                identityID: identity.id,
                flowID: flowID,
                recoveryLink: recoveryLink,
                recoveryCode: code,
                expiresIn: expiresInText.isEmpty ? nil : expiresInText,
                expiresAt: expiresAt
            )
        )
        let answer: JSONValue = .object([
            "expires_at": .string(expiresAt),
            "recovery_code": .string(code),
            "recovery_link": .string(recoveryLink),
        ])
        return JSONResponse.make(.created, json: answer)
    }

    /// `identity_id` as Go's `uuid.UUID` decodes it: absent means the nil UUID (which no identity has).
    private static func identityID(_ body: JSONValue) throws -> String {
        guard case .object = body else {
            throw HerodotError.badRequest("Unable to decode JSON payload: expected a JSON object")
        }
        guard let value = body["identity_id"] else { return "00000000-0000-0000-0000-000000000000" }
        guard let text = value.stringValue, UUID(uuidString: text) != nil else {
            throw HerodotError.badRequest("Unable to decode JSON payload: identity_id is not a UUID")
        }
        return text
    }

    /// `expires_in` parsed with Go's `time.ParseDuration`, or the default lifespan when empty.
    private static func lifespan(_ text: String) throws -> Int64 {
        guard !text.isEmpty else { return defaultLifespan }
        guard let parsed = GoDurationSyntax.parse(text), let value = parsed.value else {
            throw HerodotError.badRequest(
                "Unable to parse \"expires_in\" as a duration string (e.g. \"1h\", \"1m30s\", \"500ms\"): \(text)"
            )
        }
        return value
    }

    static let alphanumeric = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    static let digits = Array("0123456789")

    /// Uniformly random characters from `alphabet` (system CSPRNG).
    static func randomString(length: Int, alphabet: [Character]) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }
}

import Foundation
import JSONValue

/// Builds the identity Kratos would store for a `POST /admin/identities` body. The stand-in does not
/// load identity schemas: identifiers are the trait strings under `email`, `emails`, `username` and
/// `phone`; recovery and verifiable addresses are the email ones, unless the body imports its own.
struct NewIdentity {
    let document: JSONValue

    init(body: JSONValue, schemaID: String, publicURL: String, now: Date = Date()) {
        let timestamp = GoTime.rfc3339(now)
        let traits = body["traits"] ?? .object([:])
        var identifiers: [String] = []
        for key in ["email", "emails", "username", "phone"] {
            switch traits[key] {
            case .string(let value)?: identifiers.append(value)
            case .array(let values)?: identifiers += values.compactMap(\.stringValue)
            default: break
            }
        }
        let emails = identifiers.filter { $0.contains("@") }
        var identity: [String: JSONValue] = [
            "id": .string(UUID().uuidString.lowercased()),
            "schema_id": .string(schemaID),
            "schema_url": .string(publicURL + "/schemas/" + Self.base64URL(schemaID)),
            "state": body["state"] ?? .string("active"),
            "state_changed_at": .string(timestamp),
            "traits": traits,
            "metadata_public": body["metadata_public"] ?? .null,
            "metadata_admin": body["metadata_admin"] ?? .null,
            "created_at": .string(timestamp),
            "updated_at": .string(timestamp),
            "organization_id": body["organization_id"] ?? .null,
        ]
        if let externalID = body["external_id"] { identity["external_id"] = externalID }
        if case .object(let credentials)? = body["credentials"], let password = credentials["password"] {
            var stored: [String: JSONValue] = [
                "type": .string("password"),
                "identifiers": .array(identifiers.map { .string($0.lowercased()) }),
                "version": .number(0),
                "created_at": .string(timestamp),
                "updated_at": .string(timestamp),
            ]
            if case .object(let config)? = password["config"] { stored["config"] = .object(config) }
            identity["credentials"] = .object(["password": .object(stored)])
        }
        let recovery = Self.addresses(
            body["recovery_addresses"],
            emails: emails,
            timestamp: timestamp,
            verifiable: false
        )
        if !recovery.isEmpty { identity["recovery_addresses"] = .array(recovery) }
        let verifiable = Self.addresses(
            body["verifiable_addresses"],
            emails: emails,
            timestamp: timestamp,
            verifiable: true
        )
        if !verifiable.isEmpty { identity["verifiable_addresses"] = .array(verifiable) }
        self.document = .object(identity)
    }

    /// Imported addresses completed with ids and times, or one per email identifier.
    private static func addresses(
        _ imported: JSONValue?,
        emails: [String],
        timestamp: String,
        verifiable: Bool
    )
        -> [JSONValue]
    {
        var entries: [[String: JSONValue]] = []
        if case .array(let items)? = imported, !items.isEmpty {
            for case .object(let item) in items { entries.append(item) }
        } else {
            entries = emails.map { ["value": .string($0.lowercased()), "via": .string("email")] }
        }
        return entries.map { entry in
            var entry = entry
            entry["id"] = .string(UUID().uuidString.lowercased())
            entry["created_at"] = .string(timestamp)
            entry["updated_at"] = .string(timestamp)
            if verifiable {
                entry["verified"] = entry["verified"] ?? .bool(false)
                entry["status"] = entry["status"] ?? .string("pending")
            }
            return .object(entry)
        }
    }

    private static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

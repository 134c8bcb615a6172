public import JSONValue

/// An identity as Kratos's admin API returns it: the fields the gateway uses, plus the whole
/// document (`raw`) exactly as Kratos wrote it, for templates and audit details.
public struct Identity: Sendable, Hashable {
    /// The identity's UUID.
    public let id: String
    /// The identity schema's id (`schema_id`).
    public let schemaID: String
    /// `active` or `inactive` (other values are kept as Kratos sent them).
    public let state: String?
    /// The identity's traits, as Kratos sent them.
    public let traits: JSONValue
    /// Every recovery address (`recovery_addresses`); Kratos omits the key when there are none.
    public let recoveryAddresses: [RecoveryAddress]
    /// The whole identity document as received.
    public let raw: JSONValue

    /// The recovery addresses that can receive an email (`via: email`): the only recipients this
    /// identity offers.
    public var emailRecoveryAddresses: [RecoveryAddress] {
        recoveryAddresses.filter { $0.via == "email" }
    }

    /// Reads an identity from Kratos's JSON; fails naming the field that is missing or mistyped.
    public init(json: JSONValue) throws(IdentityDecodingError) {
        guard case .object = json else { throw .notAnObject }
        guard let id = json["id"]?.stringValue else { throw .missingField("id") }
        guard let schemaID = json["schema_id"]?.stringValue else { throw .missingField("schema_id") }
        self.id = id
        self.schemaID = schemaID
        self.state = json["state"]?.stringValue
        self.traits = json["traits"] ?? .null
        var addresses: [RecoveryAddress] = []
        switch json["recovery_addresses"] {
        case nil, .null?:
            break
        case .array(let items)?:
            for item in items {
                guard let value = item["value"]?.stringValue, let via = item["via"]?.stringValue else {
                    throw .missingField("recovery_addresses[].value/via")
                }
                addresses.append(RecoveryAddress(id: item["id"]?.stringValue, value: value, via: via))
            }
        default:
            throw .missingField("recovery_addresses")
        }
        self.recoveryAddresses = addresses
        self.raw = json
    }
}

/// One entry of an identity's `recovery_addresses`.
public struct RecoveryAddress: Sendable, Hashable {
    /// The address's UUID.
    public let id: String?
    /// The address (an email address when `via` is `email`).
    public let value: String
    /// The channel: `email` or `sms`.
    public let via: String

    /// An address with the given fields.
    public init(id: String?, value: String, via: String) {
        self.id = id
        self.value = value
        self.via = via
    }
}

/// Why a Kratos identity document could not be read.
public enum IdentityDecodingError: Error, Sendable, Equatable {
    case notAnObject
    case missingField(String)
}

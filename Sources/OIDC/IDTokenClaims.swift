import Foundation
import JWTKit

/// The claims of an OpenID Connect ID token that the console reads: who (issuer and subject), for
/// whom (audience, authorized party), when (issued, expires), the sign-in it answers (nonce), the
/// agent's names, and every claim whose value is a string or a list of strings (the roles claim is
/// one of them, under the name the configuration gives).
public struct IDTokenClaims: JWTPayload, Equatable {
    public var issuer: String
    public var subject: String
    public var audience: [String]
    public var authorizedParty: String?
    public var expiresAt: Date
    public var issuedAt: Date
    public var nonce: String?
    public var name: String?
    public var preferredUsername: String?
    public var email: String?
    /// Each claim whose value is a string (as a list of one) or a list of strings.
    public var texts: [String: [String]]

    public init(
        issuer: String,
        subject: String,
        audience: [String],
        authorizedParty: String? = nil,
        expiresAt: Date,
        issuedAt: Date,
        nonce: String?,
        name: String? = nil,
        preferredUsername: String? = nil,
        email: String? = nil,
        texts: [String: [String]] = [:]
    ) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.authorizedParty = authorizedParty
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.nonce = nonce
        self.name = name
        self.preferredUsername = preferredUsername
        self.email = email
        self.texts = texts
    }

    /// The claim `name` as a list of strings (a single string is a list of one); empty when absent
    /// or of another type.
    public func strings(_ name: String) -> [String] { texts[name] ?? [] }

    /// The claims are checked by ``IDTokenVerifier`` (against its clock and this sign-in), not here.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        func string(_ name: String) throws -> String? { try container.decodeIfPresent(String.self, forKey: Key(name)) }
        func seconds(_ name: String) throws -> Date {
            Date(timeIntervalSince1970: try container.decode(Double.self, forKey: Key(name)))
        }
        issuer = try container.decode(String.self, forKey: Key("iss"))
        subject = try container.decode(String.self, forKey: Key("sub"))
        var texts: [String: [String]] = [:]
        for key in container.allKeys {
            if let text = try? container.decode(String.self, forKey: key) {
                texts[key.stringValue] = [text]
            } else if let list = try? container.decode([String].self, forKey: key) {
                texts[key.stringValue] = list
            }
        }
        guard let audience = texts["aud"], !audience.isEmpty else {
            throw DecodingError.dataCorruptedError(
                forKey: Key("aud"),
                in: container,
                debugDescription: "aud must be a string or a list of strings"
            )
        }
        self.audience = audience
        authorizedParty = try string("azp")
        expiresAt = try seconds("exp")
        issuedAt = try seconds("iat")
        nonce = try string("nonce")
        name = try? string("name")
        preferredUsername = try? string("preferred_username")
        email = try? string("email")
        self.texts = texts
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (name, values) in texts {
            if values.count == 1 {
                try container.encode(values[0], forKey: Key(name))
            } else {
                try container.encode(values, forKey: Key(name))
            }
        }
        try container.encode(issuer, forKey: Key("iss"))
        try container.encode(subject, forKey: Key("sub"))
        if audience.count == 1 {
            try container.encode(audience[0], forKey: Key("aud"))
        } else {
            try container.encode(audience, forKey: Key("aud"))
        }
        try container.encodeIfPresent(authorizedParty, forKey: Key("azp"))
        try container.encode(Int64(expiresAt.timeIntervalSince1970), forKey: Key("exp"))
        try container.encode(Int64(issuedAt.timeIntervalSince1970), forKey: Key("iat"))
        try container.encodeIfPresent(nonce, forKey: Key("nonce"))
        try container.encodeIfPresent(name, forKey: Key("name"))
        try container.encodeIfPresent(preferredUsername, forKey: Key("preferred_username"))
        try container.encodeIfPresent(email, forKey: Key("email"))
    }
}

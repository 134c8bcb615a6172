import Foundation
import JSONValue
import NIOCore

/// An identity the stand-in holds: the document as given, its answer body pre-encoded (credential
/// configs removed, as Kratos does unless asked to declassify) and its login identifiers.
struct StoredIdentity: Sendable {
    let id: String
    let document: JSONValue
    let body: ByteBuffer
    let identifiers: Set<String>

    /// Why a document cannot be held.
    enum Invalid: Error {
        case reason(String)
    }

    init(document: JSONValue) throws(Invalid) {
        guard case .object = document else { throw .reason("identity is not a JSON object") }
        guard let id = document["id"]?.stringValue, let uuid = UUID(uuidString: id) else {
            throw .reason("identity has no UUID \"id\"")
        }
        self.id = uuid.uuidString.lowercased()
        self.document = document
        var identifiers: Set<String> = []
        if case .object(let credentials)? = document["credentials"] {
            for credential in credentials.values {
                if case .array(let values)? = credential["identifiers"] {
                    for value in values { if let text = value.stringValue { identifiers.insert(text.lowercased()) } }
                }
            }
        }
        self.identifiers = identifiers
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Self.withoutCredentialConfig(document))) ?? Data("{}".utf8)
        self.body = ByteBuffer(bytes: data)
    }

    /// The document with every `credentials.*.config` removed.
    static func withoutCredentialConfig(_ document: JSONValue) -> JSONValue {
        guard case .object(var members) = document, case .object(var credentials)? = members["credentials"] else {
            return document
        }
        for (key, credential) in credentials {
            if case .object(var fields) = credential {
                fields["config"] = nil
                credentials[key] = .object(fields)
            }
        }
        members["credentials"] = .object(credentials)
        return .object(members)
    }
}

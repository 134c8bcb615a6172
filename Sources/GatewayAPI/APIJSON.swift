import Foundation

/// How the gateway writes JSON (answers, problems, log lines): keys sorted, so a stored answer
/// replays byte for byte, and slashes left unescaped.
public enum APIJSON {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// A value the API answers with as JSON.
public protocol APIJSONEncodable: Encodable {}

extension APIJSONEncodable {
    /// The value as the API writes it (``APIJSON/encoder``).
    public func json() -> Data {
        (try? APIJSON.encoder.encode(self)) ?? Data()
    }
}

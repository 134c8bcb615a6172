import Foundation
import JSONValue

/// One log line as a flat JSON object of strings, keys sorted, written straight to UTF-8 octets
/// (a `JSONEncoder` per line costs more than the rest of the logging together).
enum JSONLogLine {
    /// `{"key":"value",…}` and a line feed, as ``JSONStringObject`` writes it: keys sorted by their
    /// UTF-8 octets, a key given twice written once with its last value, strings escaped as JSON
    /// requires (quote, backslash, control characters; `/` and non-ASCII text are kept as they are).
    static func encode(_ fields: [(key: String, value: String)]) -> Data {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        JSONStringObject.append(fields, to: &output)
        output.append(0x0A)
        return Data(output)
    }
}

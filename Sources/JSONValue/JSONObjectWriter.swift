/// Writes one JSON object straight to UTF-8 octets, field by field, in the order the caller gives:
/// for an answer written per request, where a `JSONEncoder` costs more than the work around it.
///
/// Strings are escaped as ``JSONStringObject`` escapes them, that is as Foundation's `JSONEncoder`
/// does with `.withoutEscapingSlashes`; a `nil` value writes no field, as a synthesized `Encodable`
/// omits it. To write what `JSONEncoder` writes with `.sortedKeys`, give the fields in the order of
/// their keys' UTF-8 octets (`"id"` before `"identity_id"`, `"template"` before `"template_type"`).
public struct JSONObjectWriter {
    /// The octets so far: `{` and the fields written.
    private var output: [UInt8]
    private var empty = true

    /// A writer with `{` written, reserving `capacity` octets.
    public init(capacity: Int = 256) {
        output = []
        output.reserveCapacity(capacity)
        output.append(UInt8(ascii: "{"))
    }

    /// Writes `"key":"value"`, or nothing for `nil`.
    public mutating func field(_ key: String, _ value: String?) {
        guard let value else { return }
        name(key)
        JSONStringObject.appendString(value, to: &output)
    }

    /// Writes `"key":value`.
    public mutating func field(_ key: String, _ value: Int) {
        name(key)
        output.append(contentsOf: String(value).utf8)
    }

    /// Writes `"key":{…}`, the object `write` fills in, or nothing for `nil`.
    public mutating func field<Value>(_ key: String, _ value: Value?, _ write: (inout JSONObjectWriter, Value) -> Void)
    {
        guard let value else { return }
        name(key)
        var inner = JSONObjectWriter(capacity: 64)
        write(&inner, value)
        output.append(contentsOf: inner.finished())
    }

    /// The object's octets, `}` written.
    public consuming func finished() -> [UInt8] {
        output.append(UInt8(ascii: "}"))
        return output
    }

    private mutating func name(_ key: String) {
        if !empty { output.append(UInt8(ascii: ",")) }
        empty = false
        JSONStringObject.appendString(key, to: &output)
        output.append(UInt8(ascii: ":"))
    }
}

import Foundation

/// Times and query strings written the way Go's standard library writes them.
enum GoTime {
    /// `time.Time.MarshalJSON` in UTC (RFC 3339 with up to 9 fractional digits, trailing zeros cut);
    /// Foundation's clock gives microseconds.
    static func rfc3339(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = interval.rounded(.down)
        var micros = Int(((interval - seconds) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            micros -= 1_000_000
            seconds += 1
        }
        let base = Date(timeIntervalSince1970: seconds).formatted(.iso8601)  // yyyy-MM-ddTHH:mm:ssZ
        guard micros > 0 else { return base }
        var fraction = String(micros)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return String(base.dropLast()) + "." + fraction + "Z"
    }

    private static let queryUnreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)

    /// `url.QueryEscape`: unreserved bytes kept, space as `+`, everything else `%XX`.
    static func queryEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if queryUnreserved.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == 0x20 {
                out += "+"
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// `url.Values.Encode`: keys sorted, each pair escaped.
    static func encodeQuery(_ pairs: [String: String]) -> String {
        pairs.keys.sorted().map { queryEscape($0) + "=" + queryEscape(pairs[$0]!) }.joined(separator: "&")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

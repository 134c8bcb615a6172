import Foundation
import JSONValue
import NIOCore
import NIOHTTP1

/// Turns a Kratos error answer (herodot's `{"error": {code, status, reason, message}}`) into a `KratosError`.
enum KratosErrorResponse {
    /// Kratos's link endpoint answers 400 with this reason when the identity does not exist.
    static let linkIdentityMissingReason = "The requested identity id does not exist."

    static func classify(
        status: Int,
        headers: HTTPHeaders,
        body: ByteBuffer,
        operation: KratosOperation,
        secrets: [String]
    ) -> KratosError {
        var reason = kratosReason(body) ?? "HTTP \(status)"
        for secret in secrets where !secret.isEmpty {
            reason = reason.replacingOccurrences(of: secret, with: "<redacted>")
        }
        let kind: KratosError.Kind
        switch status {
        case 404 where operation != .listIdentities:
            kind = .identityNotFound
        case 400 where operation == .link && reason == linkIdentityMissingReason:
            kind = .identityNotFound
        case 401, 403:
            kind = .unauthorized
        case 408, 429, 500...599:
            kind = .transient
        default:
            kind = .badRequest
        }
        let retryAfter = kind == .transient ? headers.first(name: "Retry-After").flatMap(parseRetryAfter) : nil
        return KratosError(kind: kind, status: status, reason: reason, retryAfter: retryAfter)
    }

    /// `error.reason`, else `error.message`, from a herodot error body.
    static func kratosReason(_ body: ByteBuffer) -> String? {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)) else {
            return nil
        }
        let error = json["error"]
        return error?["reason"]?.stringValue ?? error?["message"]?.stringValue
    }

    /// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
    static func parseRetryAfter(_ value: String) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let seconds = max(0, date.timeIntervalSinceNow.rounded(.up))
        return .seconds(Int64(seconds))
    }
}

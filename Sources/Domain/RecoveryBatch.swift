import Foundation
import JSONValue
import UUIDText

/// The common fields of a `POST /v1/recovery-batches` body (or its query parameters, for an
/// NDJSON body) and the grammar of its items.
///
/// An item is a JSON string — a login email if it contains `@`, else an identity id (a UUID) — or
/// a JSON object with exactly one of `identity_id` and `email`, and optionally `recipient`. Each
/// item becomes the ``RecoveryEmailRequest`` of a single send with the batch's common fields.
public struct RecoveryBatch: Sendable, Equatable {
    /// The fields every item shares; its target is replaced by each item's.
    public var common: RecoveryEmailRequest
    public var dryRun: Bool
    /// Items sent per second (``rates``); nil for the configured default.
    public var rate: Int?

    /// The paces a batch may ask for, in items per second.
    public static let rates = 1...1000

    /// The most items a JSON body may carry; an NDJSON body has no limit.
    public static let maximumJSONItems = 10_000

    /// The fields of a batch besides `items`.
    public static let commonFields: Set<String> = [
        "method", "template", "locale", "expires_in", "reason", "dry_run", "rate",
    ]
    private static let itemFields: Set<String> = ["identity_id", "email", "recipient"]

    /// Checks the common fields (`items` excluded): every other field must be one of
    /// ``commonFields``, and `reason` is required.
    public init(fields: [String: JSONValue]) throws(RequestError) {
        if let unknown = fields.keys.sorted().first(where: { !Self.commonFields.contains($0) }) {
            throw RequestError(field: unknown, message: "is not a field of a batch")
        }
        // The target is a stand-in: `request(for:)` puts each item's in its place.
        common = try RecoveryEmailRequest(target: .identityID(""), fields: fields)
        guard common.reason?.isEmpty == false else {
            throw RequestError(field: "reason", message: "is required for a batch")
        }
        switch fields["dry_run"] {
        case nil, .null?, .bool(false)?: dryRun = false
        case .bool(true)?: dryRun = true
        default: throw RequestError(field: "dry_run", message: "must be true or false")
        }
        switch fields["rate"] {
        case nil, .null?: rate = nil
        case .number(let number)?
        where number.rounded() == number && Double(Self.rates.lowerBound)...Double(Self.rates.upperBound) ~= number:
            rate = Int(number)
        case .string(let text)? where Int(text).map(Self.rates.contains) == true: rate = Int(text)
        default:
            throw RequestError(
                field: "rate",
                message:
                    "must be a whole number of emails per second from \(Self.rates.lowerBound) to \(Self.rates.upperBound)"
            )
        }
    }

    /// The single send that `item` asks for, or why the item is not one.
    public func request(for item: JSONValue) throws(RequestError) -> RecoveryEmailRequest {
        var request = common
        switch item {
        case .string(let text):
            if text.contains("@") {
                request.target = .email(try RecoveryEmailRequest.address(text, field: "email"))
            } else {
                guard UUID(text: text) != nil else {
                    throw RequestError(field: "item", message: "must be an identity id (a UUID) or a login email")
                }
                request.target = .identityID(text.lowercased())
            }
        case .object(let fields):
            if let unknown = fields.keys.sorted().first(where: { !Self.itemFields.contains($0) }) {
                throw RequestError(field: unknown, message: "is not a field of an item")
            }
            request.target = try RecoveryEmailRequest.target(in: fields)
            if let recipient = try RecoveryEmailRequest.string(fields, "recipient") {
                request.recipient = try RecoveryEmailRequest.address(recipient, field: "recipient")
            }
        default:
            throw RequestError(
                field: "item",
                message: "must be a string (an identity id or a login email) or an object"
            )
        }
        return request
    }
}

/// The body of `POST /v1/recovery-batches/{id}/pause`, `resume` or `cancel`: an optional `reason`
/// (a single send's rules), kept in the audit event and, for a pause, shown with the batch.
public struct BatchControlRequest: Sendable, Equatable {
    public var reason: String?

    /// Checks `fields`: `reason` is the only field.
    public init(fields: [String: JSONValue]) throws(RequestError) {
        if let unknown = fields.keys.sorted().first(where: { $0 != "reason" }) {
            throw RequestError(field: unknown, message: "is not a field of this request")
        }
        reason = try RecoveryEmailRequest.reason(in: fields)
    }
}

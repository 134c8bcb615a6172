import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import JSONValue
import Logging
import NIOCore

/// `POST /v1/recovery-batches`: so far only the dry run (`dry_run: true`), which checks every
/// item as a single send would and answers a report, storing nothing.
package struct RecoveryBatchRoutes: Sendable {
    let accept: AcceptService

    package init(accept: AcceptService) { self.accept = accept }

    /// The largest JSON body (10,000 items with room to spare); an NDJSON body has no limit.
    static let maximumJSONBytes = 4 << 20

    package func add(to router: Router<GatewayRequestContext>) {
        router.group("v1/recovery-batches").add(middleware: RequireScopeMiddleware(.send))
            .post { request, context in try await create(request, context: context) }
    }

    func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let caller = context.caller else { throw Problem.unauthorized() }
        let report: BatchDryRunReport
        do {
            if Self.isNDJSON(request.headers[.contentType]) {
                let dryRun = try dryRun(Self.queryFields(request), caller: caller)
                report = try await dryRun.run(NDJSONItems(base: request.body))
            } else if CourierRoutes.isJSON(request.headers[.contentType]) {
                var request = request
                let bytes = try await request.collectBody(limit: Self.maximumJSONBytes, setting: "a batch's JSON body")
                let (fields, items) = try Self.jsonBody(bytes)
                let dryRun = try dryRun(fields, caller: caller)
                report = try await dryRun.run(items)
            } else {
                throw Problem(
                    .unsupportedMediaType,
                    code: .unsupportedMediaType,
                    title: "Unsupported media type",
                    detail: "the body must be application/json or application/x-ndjson",
                    field: "Content-Type"
                )
            }
        } catch let refusal as AcceptRefusal {
            throw RecoveryEmailRoutes.problem(refusal, context: context, at: "a batch dry run")
        }
        context.logFields.add([
            "batch_items": "\(report.total)",
            "batch_would_send": "\(report.counts[BatchOutcome.wouldSend.rawValue] ?? 0)",
        ])
        return jsonResponse(report.json())
    }

    /// The dry run of a batch with these common fields; a batch that would send is not built yet.
    func dryRun(_ fields: [String: JSONValue], caller: Caller) throws(AcceptRefusal) -> BatchDryRun {
        let batch: RecoveryBatch
        do {
            batch = try RecoveryBatch(fields: fields)
        } catch {
            throw .invalid(error)
        }
        guard batch.dryRun else {
            throw .invalid(
                RequestError(
                    field: "dry_run",
                    message: "sending batches is not available yet; only a dry run (dry_run: true) is"
                )
            )
        }
        return try BatchDryRun(accept: accept, batch: batch, caller: caller)
    }

    /// The common fields and the items of a JSON body.
    static func jsonBody(_ bytes: ByteBuffer) throws -> ([String: JSONValue], [JSONValue]) {
        guard let body = try? JSONValue(parsing: bytes.readableBytesView) else { throw Problem.invalidJSON }
        guard case .object(var fields) = body else {
            throw AcceptRefusal.invalid(RequestError(field: "body", message: "must be a JSON object", kind: .malformed))
        }
        guard case .array(let items)? = fields.removeValue(forKey: "items") else {
            throw AcceptRefusal.invalid(
                RequestError(field: "items", message: "is required: an array of identity ids, emails or objects")
            )
        }
        guard !items.isEmpty else {
            throw AcceptRefusal.invalid(RequestError(field: "items", message: "must not be empty"))
        }
        guard items.count <= RecoveryBatch.maximumJSONItems else {
            throw AcceptRefusal.invalid(
                RequestError(
                    field: "items",
                    message:
                        "must be at most \(RecoveryBatch.maximumJSONItems) items; send more as application/x-ndjson"
                )
            )
        }
        return (fields, items)
    }

    /// The common fields of an NDJSON body, from the query (`dry_run=true|false`).
    static func queryFields(_ request: Request) throws(AcceptRefusal) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        for (name, value) in request.uri.queryParameters {
            let text = String(value)
            let flag = ["true": true, "false": false][text]
            fields[String(name)] = name == "dry_run" ? flag.map(JSONValue.bool) ?? .string(text) : .string(text)
        }
        return fields
    }

    /// `application/x-ndjson`, with any parameters.
    static func isNDJSON(_ contentType: String?) -> Bool {
        contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            == "application/x-ndjson"
    }
}

extension BatchDryRunReport: APIJSONEncodable {}

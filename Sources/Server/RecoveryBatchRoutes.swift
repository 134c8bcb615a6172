import Audit
import Domain
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird
import JSONValue
import Logging
import NIOCore
import Store
import UUIDText

/// `POST /v1/recovery-batches` (a dry run, or a batch to send: stored, then sent by the
/// ``BatchRunner`` at its rate), `GET /v1/recovery-batches/{id}` and `…/{id}/items` (JSON pages,
/// or CSV), and `POST …/{id}/pause`, `resume` and `cancel`.
///
/// A batch is its creator's: every route naming one answers 404 to another key (batch ids are not
/// secret, so the answer says nothing about whether it exists), unless that key has `batch:admin`.
package struct RecoveryBatchRoutes: Sendable {
    let accept: AcceptService
    let store: any GatewayStore
    /// The largest JSON body (`server.max_body_bytes`); an NDJSON body has no limit.
    let maxBodyBytes: Int

    package init(accept: AcceptService, store: any GatewayStore, maxBodyBytes: Int) {
        self.accept = accept
        self.store = store
        self.maxBodyBytes = maxBodyBytes
    }

    /// About how many bytes of a dry run's report are written at once.
    static let chunkBytes = 16 * 1024

    package func add(to router: Router<GatewayRequestContext>) {
        router.group("v1/recovery-batches").add(middleware: RequireScopeMiddleware(.send))
            .post { request, context in try await create(request, context: context) }
        router.group("v1/recovery-batches").add(middleware: RequireScopeMiddleware(.send, or: .batchAdmin))
            .post(":id/pause") { request, context in
                try await change(request, context: context, from: [.running], to: .paused)
            }
            .post(":id/resume") { request, context in
                try await change(request, context: context, from: [.paused], to: .running)
            }
            .post(":id/cancel") { request, context in
                try await change(request, context: context, from: [.ingesting, .running, .paused], to: .cancelled)
            }
        router.group("v1/recovery-batches").add(middleware: RequireScopeMiddleware(.read, or: .batchAdmin))
            .get(":id") { _, context in try await show(context) }
            .get(":id/items") { request, context in try await items(request, context: context) }
    }

    func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let caller = context.caller else { throw Problem.unauthorized() }
        do {
            if Self.isNDJSON(request.headers[.contentType]) {
                let fields = try Self.queryFields(request)
                let batch = try Self.batch(fields)
                let items = NDJSONItems(base: request.body)
                if batch.dryRun { return try await dryRun(batch, items: items, caller: caller, context: context) }
                return try await send(batch, fields: fields, items: items, request: request, context: context)
            } else if CourierRoutes.isJSON(request.headers[.contentType]) {
                var request = request
                let bytes = try await request.collectBody(limit: maxBodyBytes, setting: "server.max_body_bytes")
                let (fields, list) = try Self.jsonBody(bytes)
                let batch = try Self.batch(fields)
                let items = BatchInput.numbered(list)
                if batch.dryRun { return try await dryRun(batch, items: items, caller: caller, context: context) }
                return try await send(batch, fields: fields, items: items, request: request, context: context)
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
            throw RecoveryEmailRoutes.problem(refusal, context: context, at: "a batch")
        } catch let error as StoreError {
            throw context.storeUnavailable(error)
        }
    }

    /// Checks every item as a single send would and streams the report as it goes (see
    /// ``BatchDryRun``): `{"dry_run": true, "items": [...], "counts": {...}, "total": n}`, with an
    /// `error` member (a problem's `code`, `detail` and `status`) when an outage cut it short after
    /// the answer had begun. Stores nothing but its audit event.
    func dryRun<Items: AsyncSequence & Sendable>(
        _ batch: RecoveryBatch,
        items: Items,
        caller: Caller,
        context: GatewayRequestContext
    ) async throws -> Response where Items.Element == BatchInput {
        let run = try BatchDryRun(accept: accept, batch: batch, caller: caller)
        let logger = context.logger
        let body = ResponseBody { writer in
            // Findings go out in chunks of about 16 KiB, or sooner when they come slowly: one write
            // per finding would keep a small buffer (and its overhead) per finding in flight.
            var pending = ByteBuffer(string: #"{"dry_run":true,"items":["#)
            var flushed = ContinuousClock.now
            let result = try await run.run(items) { report, before in
                if before > 0 { pending.writeString(",") }
                pending.writeBytes(report.json())
                guard pending.readableBytes >= Self.chunkBytes || .now - flushed > .milliseconds(200) else { return }
                try await writer.write(pending)
                pending = ByteBuffer()
                flushed = .now
            }
            var end = pending
            end.writeString(#"],"counts":"#)
            end.writeBytes((try? APIJSON.encoder.encode(result.tally.counts)) ?? Data())
            if let failure = result.failure {
                if case .storeUnavailable(let error) = failure {
                    logger.error("store failed during a dry run", metadata: ["error": "\(error)"])
                }
                let problem = RecoveryEmailRoutes.problem(failure)
                let error = DryRunError(code: problem.code, detail: problem.detail, status: Int(problem.status.code))
                end.writeString(#","error":"#)
                end.writeBytes((try? APIJSON.encoder.encode(error)) ?? Data())
            }
            end.writeString(#","total":\#(result.tally.total)}"#)
            try await writer.write(end)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// Stores the batch and its items (or finds the one the key made, resuming its upload if it
    /// was cut short) and answers 202 with the batch; the runner sends it.
    func send<Items: AsyncSequence>(
        _ batch: RecoveryBatch,
        fields: [String: JSONValue],
        items: Items,
        request: Request,
        context: GatewayRequestContext
    ) async throws -> Response where Items.Element == BatchInput {
        guard let caller = context.caller else { throw Problem.unauthorized() }
        let key = try RecoveryEmailRoutes.idempotencyKey(request)
        let ingest = BatchIngest(accept: accept, store: store)
        let stored = try await ingest.create(batch, fields: fields, idempotencyKey: key, caller: caller)
        // A new batch, or one whose upload was cut short, takes the items; a complete one is a replay.
        let record = try await ingest.ingest(items, of: batch, into: stored, caller: caller)
        let replayed = stored.ingestComplete
        let id = record.id.lowercasedString
        context.logFields.add(["batch_id": "\(id)", "batch_items": "\(record.total)", "replayed": "\(replayed)"])
        var headers: HTTPFields = [.contentType: "application/json", .location: "/v1/recovery-batches/\(id)"]
        if replayed { headers[.idempotentReplayed] = "true" }
        let body = BatchView(record, counts: try await store.batchCounts(id: record.id)).json()
        return Response(status: .accepted, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    func show(_ context: GatewayRequestContext) async throws -> Response {
        let batch = try await batch(context)
        return jsonResponse(BatchView(batch, counts: try await counts(batch.id, context)).json())
    }

    /// A page of the items (`outcome`, `cursor`, `limit`), or with `Accept: text/csv` all of them
    /// that match, streamed page by page.
    func items(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let batch = try await batch(context)
        let parameters = QueryParameters(request.uri.queryParameters)
        var query = BatchItemQuery(batchID: batch.id, cursor: parameters.cursor(), limit: try parameters.limit())
        if let outcome = parameters.string("outcome") {
            guard let parsed = BatchItemOutcome(rawValue: outcome) else {
                let outcomes = BatchItemOutcome.allCases.map(\.rawValue).joined(separator: ", ")
                throw Problem.badParameter("outcome", "must be one of \(outcomes)")
            }
            query.outcome = parsed
        }
        if (request.headers[.accept] ?? "").contains("text/csv") {
            return csv(query, logger: context.logger)
        }
        do {
            let page = try await store.batchItems(query)
            return jsonResponse(PageView(items: page.items.map(BatchItemView.init), nextCursor: page.nextCursor).json())
        } catch StoreError.invalidQuery {
            throw Problem.badParameter("cursor", "is not a cursor this list gave out")
        } catch {
            throw context.storeUnavailable(error)
        }
    }

    /// Streams the items `first` matches as CSV, page after page: memory stays flat. A store
    /// failure after the first bytes can only cut the answer short: it is logged here.
    func csv(_ first: BatchItemQuery, logger: Logger) -> Response {
        let store = store
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: BatchItemView.csvHeader))
            var query = first
            query.limit = PageLimit.range.upperBound
            while true {
                let page: Page<BatchItemRecord>
                do {
                    page = try await store.batchItems(query)
                } catch {
                    logger.error("store failed during a batch report", metadata: ["error": "\(error)"])
                    throw error
                }
                try await writer.write(ByteBuffer(string: page.items.map { BatchItemView($0).csvLine }.joined()))
                guard let next = page.nextCursor else { break }
                query.cursor = next
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: body)
    }

    /// Pauses, resumes or cancels the batch of the path, with the `reason` of an optional JSON
    /// body; 409 when it is in no state of `from`. Each appends its event (`batch.paused`,
    /// `batch.resumed`, `batch.cancelled`) with the caller and the reason; a cancel answers how many
    /// items it stopped and how many were already on the wire (see `changeBatchStatus`).
    func change(
        _ request: Request,
        context: GatewayRequestContext,
        from: Set<BatchStatus>,
        to: BatchStatus
    ) async throws -> Response {
        guard let caller = context.caller else { throw Problem.unauthorized() }
        let batch = try await batch(context)
        let control = try await controlRequest(request)
        let now = Date()
        let action: AuditAction =
            switch to {
            case .paused: .batchPaused
            case .cancelled: .batchCancelled
            default: .batchResumed
            }
        var details = ["batch_id": batch.id.lowercasedString]
        if let reason = control.reason { details["reason"] = AuditChain.maskingAddresses(in: reason) }
        let audit = AuditDraft(
            at: now,
            actor: caller.name,
            sourceIP: caller.sourceIP,
            requestID: caller.requestID,
            action: action,
            outcome: to.rawValue,
            details: details
        )
        let change: BatchChange?
        do {
            change = try await store.changeBatchStatus(
                id: batch.id,
                from: from,
                to: to,
                at: now,
                reason: control.reason.map { "\(caller.name): \(AuditChain.maskingAddresses(in: $0))" }
                    ?? "paused by \(caller.name)",
                audit: audit
            )
        } catch {
            throw context.storeUnavailable(error)
        }
        guard let change else {
            throw Problem(
                .conflict,
                code: .batchState,
                title: "Batch state",
                detail: "the batch is \(batch.status.rawValue); only a batch that is "
                    + from.map(\.rawValue).sorted().joined(separator: " or ") + " can be made \(to.rawValue)"
            )
        }
        var view = BatchChangeView(BatchView(change.batch, counts: try await counts(change.batch.id, context)))
        if to == .cancelled {
            view.cancelledItems = change.cancelledItems
            view.onTheWire = change.onTheWire
        }
        return jsonResponse(view.json())
    }

    /// The body of a pause, resume or cancel: none, or a JSON object with an optional `reason`.
    private func controlRequest(_ request: Request) async throws -> BatchControlRequest {
        var request = request
        let bytes = try await request.collectBody(limit: maxBodyBytes, setting: "server.max_body_bytes")
        guard bytes.readableBytes > 0 else { return try BatchControlRequest(fields: [:]) }
        guard let body = try? JSONValue(parsing: bytes.readableBytesView) else { throw Problem.invalidJSON }
        do {
            guard case .object(let fields) = body else {
                throw RequestError(field: "body", message: "must be a JSON object")
            }
            return try BatchControlRequest(fields: fields)
        } catch let error as RequestError {
            throw RecoveryEmailRoutes.problem(.invalid(error))
        }
    }

    private func counts(_ id: UUID, _ context: GatewayRequestContext) async throws(Problem) -> BatchCounts {
        do {
            return try await store.batchCounts(id: id)
        } catch {
            throw context.storeUnavailable(error)
        }
    }

    /// The batch the path names, or 404: also for a batch of another key, unless the caller has
    /// `batch:admin`.
    private func batch(_ context: GatewayRequestContext) async throws(Problem) -> BatchRecord {
        guard let text = context.parameters.get("id"), let id = UUID(text: text) else {
            throw Problem.notFound("batch")
        }
        let found: BatchRecord?
        do {
            found = try await store.batch(id: id)
        } catch {
            throw context.storeUnavailable(error)
        }
        guard let found, let caller = context.caller,
            found.apiKeyID == caller.name || caller.scopes.contains(.batchAdmin)
        else { throw Problem.notFound("batch") }
        return found
    }

    /// The batch that `fields` describe, or the refusal naming the field at fault.
    static func batch(_ fields: [String: JSONValue]) throws(AcceptRefusal) -> RecoveryBatch {
        do {
            return try RecoveryBatch(fields: fields)
        } catch {
            throw .invalid(error)
        }
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

    /// The common fields of an NDJSON body, from the query (`dry_run=true|false`, `rate` a number).
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

extension BatchItemReport: APIJSONEncodable {}

/// The `error` member of a dry run cut short: the problem a single send would have got.
struct DryRunError: Encodable {
    let code: String
    let detail: String
    let status: Int
}

/// The answer to pause, resume and cancel: the batch, and for a cancel how many items it stopped
/// and how many were already on the wire.
struct BatchChangeView: Encodable, APIJSONEncodable {
    var batch: BatchView
    var cancelledItems: Int?
    var onTheWire: Int?

    init(_ batch: BatchView) { self.batch = batch }

    enum CodingKeys: String, CodingKey {
        case batch
        case cancelledItems = "cancelled_items"
        case onTheWire = "on_the_wire"
    }
}

import Audit
import Foundation
import JSONValue
import Store
import UUIDText

/// Stores a batch to send: checks its common fields, creates it under the caller's idempotency
/// key, and stores its items as they are read, ``chunkSize`` per transaction, so memory stays
/// flat in the item count. A bad line is stored as `invalid` with its reason and the rest goes
/// on. The same key with the same common fields is the same batch: a replay once its ingest was
/// complete, else the upload resumes (positions already stored are kept, none twice).
public struct BatchIngest: Sendable {
    let accept: AcceptService
    let store: any BatchStore

    /// Items stored per transaction.
    public static let chunkSize = 500

    public init(accept: AcceptService, store: any BatchStore) {
        self.accept = accept
        self.store = store
    }

    /// Creates the batch that `fields` (its common fields) describe, or finds the one the key
    /// already made with the same fields (complete: a replay; else its upload resumes). A refusal
    /// (a bad field, the key reused for other fields, the store down) stores nothing.
    public func create(
        _ batch: RecoveryBatch,
        fields: [String: JSONValue],
        idempotencyKey: String,
        caller: Caller
    ) async throws(AcceptRefusal) -> BatchRecord {
        _ = try accept.methodAndTemplate(batch.common)
        var common = fields
        common["dry_run"] = nil
        common["rate"] = nil
        let rate = batch.rate ?? accept.settings.batchRate
        let commonText = String(decoding: (try? Self.encoder.encode(JSONValue.object(common))) ?? Data(), as: UTF8.self)
        let record = BatchRecord(
            id: UUID(),
            apiKeyID: caller.name,
            idempotencyKey: idempotencyKey,
            requestHash: AcceptService.hash(.object(["common": .object(common), "rate": .number(Double(rate))])),
            anyRecipient: caller.scopes.contains(.sendAnyRecipient),
            sourceIP: caller.sourceIP,
            requestID: caller.requestID,
            common: commonText,
            rate: rate,
            createdAt: accept.now()
        )
        switch try await accept.storeCall({ () async throws(StoreError) in try await store.createBatch(record) }) {
        case .created(let batch), .existing(let batch): return batch
        case .keyReused: throw .keyReused
        }
    }

    /// Stores `items` into `batch` (created or resumed) and completes its ingest with the
    /// `batch.created` event; answers the batch as stored. A batch whose ingest was complete, or
    /// that was cancelled before, is answered as it is, its items not read; one cancelled during
    /// the upload stops it there (the rest of the body is not read, no item is stored after the
    /// cancel) and its `batch.created` event says `cancelled`, with the items stored before.
    public func ingest<Items: AsyncSequence>(
        _ items: Items,
        of request: RecoveryBatch,
        into batch: BatchRecord,
        caller: Caller
    ) async throws -> BatchRecord where Items.Element == BatchInput {
        guard !batch.ingestComplete, batch.status != .cancelled else { return batch }
        var chunk: [NewBatchItem] = []
        chunk.reserveCapacity(Self.chunkSize)
        var (total, invalid) = (0, 0)
        var open = true
        for try await input in items {
            let item = Self.newItem(input, of: request)
            chunk.append(item)
            if chunk.count == Self.chunkSize {
                open = try await store.addBatchItems(batchID: batch.id, chunk)
                guard open else { break }
                (total, invalid) = (total + chunk.count, invalid + chunk.count(where: { $0.invalidReason != nil }))
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if open, try await store.addBatchItems(batchID: batch.id, chunk) {
            (total, invalid) = (total + chunk.count, invalid + chunk.count(where: { $0.invalidReason != nil }))
        }
        let draft = AuditDraft(
            at: accept.now(),
            actor: caller.name,
            sourceIP: caller.sourceIP,
            requestID: caller.requestID,
            action: .batchCreated,
            // The store writes the status it leaves the batch in.
            outcome: BatchStatus.running.rawValue,
            details: [
                "batch_id": batch.id.lowercasedString,
                "items": String(total),
                "invalid": String(invalid),
                "rate": String(batch.rate),
            ]
        )
        return try await store.completeBatchIngest(id: batch.id, total: total, audit: draft)
    }

    /// The stored form of one line: its JSON text when it is an item of a batch, else `invalid`
    /// with the reason (checked here, with the grammar of ``RecoveryBatch``, so that a bad line is
    /// reported by its number at once). The text is re-encoded: one line, no padding.
    static func newItem(_ input: BatchInput, of batch: RecoveryBatch) -> NewBatchItem {
        do {
            let value = try input.item.get()
            _ = try batch.request(for: value)
            let text = String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
            return NewBatchItem(position: input.position, item: text)
        } catch {
            return NewBatchItem(position: input.position, item: nil, invalidReason: error.description)
        }
    }

    /// Writes JSON with sorted keys: the same fields are the same text (and hash).
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

import Audit
import Foundation
import Logging
import PostgresNIO
import Store
import UUIDText

extension PostgresStore {
    /// The advisory lock class (two-int form) of the cooldown check.
    static let cooldownLockClass: Int32 = 0x5247_4331  // "RGC1"

    /// Every decision is taken by the database, so that replicas agree: (1) claim the key:
    /// `INSERT … ON CONFLICT DO UPDATE … WHERE expired` on the primary key. A concurrent claim of
    /// the same key waits for the first transaction and then finds its record (a replay or a reuse)
    /// — one delivery per key, whichever replica gets it. (2) Cooldown: an advisory transaction lock
    /// on identity and recipient, then the look for a recent delivery, so two keys for the same
    /// person on two replicas cannot both pass. (3) Insert the delivery, (4) append the audit event
    /// (locks the chain's head, last). The accept shares its transaction with the others waiting
    /// at the same time (`writeBatch` says in which order they take their locks). Accepts of one
    /// key in this process run one at a time, the others answered from its outcome
    /// (`AcceptFlights`), so a batch never holds two units of one key.
    public func accept(_ new: NewDelivery) async throws(StoreError) -> AcceptResult {
        let groupCommit = groupCommit
        return try await acceptFlights.accept(new) { () async throws(StoreError) -> AcceptResult in
            guard case .accept(let result) = try await groupCommit.submit(.accept(new), kind: .accept) else {
                throw StoreError.database("the group commit answered an accept with another write's result")
            }
            return result
        }
    }

    public func idempotentAnswer(apiKeyID: String, key: String, now: Date) async throws(StoreError) -> IdempotentAnswer?
    {
        let logger = logger
        let asked = IdempotencyKey(apiKeyID: apiKeyID, key: key)
        return try await withConnection { connection in
            try await Self.idempotentAnswers(
                [(asked, PostgresRows.micros(now))],
                connection: connection,
                logger: logger
            )[asked]
        }
    }

    /// An idempotency key: the caller's API key and its `Idempotency-Key`.
    struct IdempotencyKey: Hashable {
        let apiKeyID: String
        let key: String
    }

    /// The unexpired records of `keys`, each checked against its own "now", in one statement, with
    /// their deliveries (a second statement, when one is found).
    private static func idempotentAnswers(
        _ keys: [(key: IdempotencyKey, now: Int64)],
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> [IdempotencyKey: IdempotentAnswer] {
        let rows = try await connection.query(
            """
            SELECT record.api_key_id, record.key, request_hash, response_status, response_body, delivery_id
            FROM idempotency_records AS record
            JOIN unnest(\(keys.map(\.key.apiKeyID))::text[], \(keys.map(\.key.key))::text[], \(keys.map(\.now))::bigint[])
                AS asked(api_key_id, key, now_us)
                ON record.api_key_id = asked.api_key_id AND record.key = asked.key
            WHERE record.expires_at_us > asked.now_us
            """,
            logger: logger
        ).collect()
        guard !rows.isEmpty else { return [:] }
        let cells = rows.map { PostgresRows.Cells(row: $0.makeRandomAccess(), table: "idempotency_records") }
        let ids: [UUID] = try cells.map { try $0["delivery_id"] }
        let deliveries = Dictionary(
            try await connection.query("SELECT * FROM deliveries WHERE id = ANY(\(ids))", logger: logger)
                .collect().map(PostgresRows.delivery).map { ($0.id, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        var answers: [IdempotencyKey: IdempotentAnswer] = [:]
        for (cells, id) in zip(cells, ids) {
            guard let delivery = deliveries[id] else {
                throw StoreError.corruptRow(table: "idempotency_records", column: "delivery_id")
            }
            let status: Int32 = try cells["response_status"]
            answers[IdempotencyKey(apiKeyID: try cells["api_key_id"], key: try cells["key"])] = IdempotentAnswer(
                requestHash: try cells["request_hash"],
                delivery: delivery,
                responseStatus: Int(status),
                responseBody: try cells["response_body"]
            )
        }
        return answers
    }

    /// Step (1): claims the keys of `news` (in their order, which is the key order; no answer stored) in one
    /// statement, each replacing an expired record only, expiry judged by each accept's own "now".
    /// Answers, in the order of `news`, nil for a key claimed, or the answer of the unexpired record
    /// that holds it (a replay or `keyReused`).
    static func claim(
        _ news: [NewDelivery],
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Result<AcceptResult, StoreError>?] {
        guard !news.isEmpty else { return [] }
        var binds = PostgresBindings()
        var rows: [String] = []
        for new in news {
            let idempotency = new.idempotency
            rows.append(
                binds.row([
                    .text(idempotency.apiKeyID), .text(idempotency.key), .text(idempotency.requestHash),
                    .integer(Int64(IdempotencyEntry.noStoredStatus)), .bytes(Data()),
                    .uuid(new.delivery.id), .micros(idempotency.expiresAt),
                ])
            )
        }
        binds.append(news.map(\.delivery.id))
        let ids = binds.count
        binds.append(news.map { PostgresRows.micros($0.delivery.createdAt) })
        let claimed = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO idempotency_records (api_key_id, key, request_hash, response_status, response_body,
                        delivery_id, expires_at_us)
                    VALUES \(rows.joined(separator: ", "))
                    ON CONFLICT (api_key_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
                        response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
                        delivery_id = EXCLUDED.delivery_id, expires_at_us = EXCLUDED.expires_at_us
                    WHERE idempotency_records.expires_at_us <= (
                        SELECT claim.now_us FROM unnest($\(ids)::uuid[], $\(ids + 1)::bigint[]) AS claim(delivery_id, now_us)
                        WHERE claim.delivery_id = EXCLUDED.delivery_id
                    )
                    RETURNING delivery_id
                    """,
                binds: binds
            ),
            logger: logger
        ).collect()
        let claimedIDs = Set(try claimed.map { try $0.decode(UUID.self) })
        let refused = news.filter { !claimedIDs.contains($0.delivery.id) }
        guard !refused.isEmpty else { return news.map { _ in nil } }
        let earlier = try await idempotentAnswers(
            refused.map {
                (
                    IdempotencyKey(apiKeyID: $0.idempotency.apiKeyID, key: $0.idempotency.key),
                    PostgresRows.micros($0.delivery.createdAt)
                )
            },
            connection: connection,
            logger: logger
        )
        return news.map { new -> Result<AcceptResult, StoreError>? in
            guard !claimedIDs.contains(new.delivery.id) else { return nil }
            let idempotency = new.idempotency
            guard let answer = earlier[IdempotencyKey(apiKeyID: idempotency.apiKeyID, key: idempotency.key)] else {
                // The record that refused the claim expired or was purged in between: try again.
                return .failure(.database("the idempotency record changed during accept; retry"))
            }
            return .success(answer.result(forRequestHash: idempotency.requestHash))
        }
    }

    /// Step (2), the locks: the cooldown lock of every accept in `news` that has a cooldown, in one
    /// statement and in the order of the locks' keys (see `writeBatch`).
    static func lockCooldowns(_ news: [NewDelivery], connection: PostgresConnection, logger: Logger) async throws {
        let cooled = news.filter { $0.cooldown > 0 && $0.delivery.identityID != nil }
        guard !cooled.isEmpty else { return }
        let identities = cooled.compactMap { $0.delivery.identityID?.lowercasedString }
        let recipients = cooled.map(\.delivery.recipient.description)
        try await connection.query(
            """
            SELECT pg_advisory_xact_lock(\(cooldownLockClass), lock) FROM (
                SELECT DISTINCT hashtext(identity || '/' || lower(recipient)) AS lock
                FROM unnest(\(identities)::text[], \(recipients)::text[]) AS accept(identity, recipient)
                ORDER BY lock
            ) AS locks
            """,
            logger: logger
        )
    }

    /// Step (2), the look, once the cooldown locks are held: for each of `news` (claimed, in the
    /// batch's order), when it must wait, or nil. One statement reads, for each accept, its newest
    /// stored delivery to the same identity and recipient within its cooldown, and the recipient
    /// as the database lowers it; the batch's own deliveries are then taken into account here, in
    /// the batch's order, as if each accept had looked after the inserts of those before it.
    static func cooldowns(_ news: [NewDelivery], connection: PostgresConnection, logger: Logger) async throws -> [Date?]
    {
        let identified = news.indices.filter { news[$0].delivery.identityID != nil }
        guard news.contains(where: { $0.cooldown > 0 && $0.delivery.identityID != nil }) else {
            return news.map { _ in nil }
        }
        let looks = identified.map { news[$0] }
        let rows = try await connection.query(
            """
            SELECT asked.lowered, (
                SELECT MAX(created_at_us) FROM deliveries
                WHERE identity_id = asked.identity_id AND lower(recipient) = asked.lowered
                AND created_at_us > asked.since_us
                AND NOT (api_key_id = asked.api_key_id AND idempotency_key = asked.key)
            )
            FROM (
                SELECT position, identity_id, lower(recipient) AS lowered, since_us, api_key_id, key
                FROM unnest(\(looks.compactMap(\.delivery.identityID))::uuid[], \(looks.map(\.delivery.recipient.description))::text[],
                    \(looks.map(Self.cooldownSince))::bigint[], \(looks.map(\.idempotency.apiKeyID))::text[],
                    \(looks.map(\.idempotency.key))::text[])
                    WITH ORDINALITY AS asked(identity_id, recipient, since_us, api_key_id, key, position)
            ) AS asked
            ORDER BY asked.position
            """,
            logger: logger
        ).collect().map { try $0.decode((String, Int64?).self) }
        guard rows.count == looks.count else {
            throw StoreError.database("the cooldown look answered \(rows.count) rows for \(looks.count) accepts")
        }
        var waits = [Date?](repeating: nil, count: news.count)
        // The newest delivery this batch inserts so far, per identity and lowered recipient.
        var inserted: [String: Int64] = [:]
        for ((index, new), (lowered, stored)) in zip(identified.map { ($0, news[$0]) }, rows) {
            let group = "\(new.delivery.identityID?.lowercasedString ?? "")/\(lowered)"
            let own = inserted[group].flatMap { $0 > Self.cooldownSince(new) ? $0 : nil }
            if new.cooldown > 0, let latest = [stored, own].compactMap({ $0 }).max() {
                waits[index] = AuditTime.date(microseconds: latest).addingTimeInterval(new.cooldown)
            } else {
                inserted[group] = max(inserted[group] ?? .min, PostgresRows.micros(new.delivery.createdAt))
            }
        }
        return waits
    }

    /// The instant (µs) after which a stored delivery refuses `new`; none when it has no cooldown.
    private static func cooldownSince(_ new: NewDelivery) -> Int64 {
        guard new.cooldown > 0 else { return .max }
        return PostgresRows.micros(new.delivery.createdAt.addingTimeInterval(-new.cooldown))
    }

    /// Gives back the keys `news` claimed when they are refused for their cooldown, in one
    /// statement: a refusal stores nothing for the key. (A claim that replaced an expired record
    /// removes it with the claim; an expired record answers nothing any more, and the purge would
    /// remove it anyway.)
    static func unclaim(_ news: [NewDelivery], connection: PostgresConnection, logger: Logger) async throws {
        guard !news.isEmpty else { return }
        try await connection.query(
            """
            DELETE FROM idempotency_records AS record
            USING unnest(\(news.map(\.idempotency.apiKeyID))::text[], \(news.map(\.idempotency.key))::text[],
                \(news.map(\.delivery.id))::uuid[]) AS refused(api_key_id, key, delivery_id)
            WHERE record.api_key_id = refused.api_key_id AND record.key = refused.key
            AND record.delivery_id = refused.delivery_id
            """,
            logger: logger
        )
    }

    /// Step (3): inserts the deliveries of `news` in one statement and answers the rows as stored,
    /// by id.
    static func insert(
        _ news: [NewDelivery],
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> [UUID: Delivery] {
        guard !news.isEmpty else { return [:] }
        var binds = PostgresBindings()
        let rows = news.map { new in
            let record = new.queued
            return binds.row(DeliveryColumn.allCases.map { $0.value(of: record, idempotency: new.idempotency) })
        }
        let inserted = try await connection.query(
            PostgresQuery(
                unsafeSQL:
                    "INSERT INTO deliveries \(DeliveryColumn.list) VALUES \(rows.joined(separator: ", ")) RETURNING *",
                binds: binds
            ),
            logger: logger
        ).collect().map(PostgresRows.delivery)
        return Dictionary(inserted.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func fetchDelivery(
        _ id: UUID,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> Delivery? {
        try await connection.query("SELECT * FROM deliveries WHERE id = \(id)", logger: logger).collect()
            .first.map(PostgresRows.delivery)
    }
}

import Audit
import Foundation
import PostgresNIO
import Store

extension PostgresStore {
    public func createConsoleSession(
        _ session: ConsoleSessionRecord,
        limits: ConsoleSessionLimits
    ) async throws(StoreError) {
        let logger = logger
        let now = session.signedInAt
        let scopes = session.scopes.joined(separator: " ")
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO console_sessions
                    (id_hash, agent, actor, display_name, scopes, signed_in_at_us, last_seen_us, send_forms)
                VALUES (\(session.idHash), \(session.agent), \(session.actor), \(session.displayName), \(scopes),
                    \(PostgresRows.micros(session.signedInAt)), \(PostgresRows.micros(session.lastSeen)),
                    \(session.sendForms))
                """,
                logger: logger
            )
            try await connection.query(
                """
                DELETE FROM console_sessions WHERE agent = \(session.agent) AND id_hash NOT IN (
                    SELECT id_hash FROM console_sessions WHERE agent = \(session.agent)
                    ORDER BY signed_in_at_us DESC, id_hash LIMIT \(limits.perAgent)
                )
                """,
                logger: logger
            )
            try await connection.query(
                """
                DELETE FROM console_sessions
                WHERE last_seen_us <= \(PostgresRows.micros(now.addingTimeInterval(-limits.idleTimeout)))
                OR signed_in_at_us <= \(PostgresRows.micros(now.addingTimeInterval(-limits.lifetime)))
                """,
                logger: logger
            )
        }
    }

    public func useConsoleSession(
        idHash: String,
        now: Date,
        limits: ConsoleSessionLimits
    ) async throws(StoreError) -> ConsoleSessionRecord? {
        let logger = logger
        return try await withConnection { connection in
            // Moves last_seen only while the session is live; a row that is there but not moved has expired.
            let moved = try await connection.query(
                """
                UPDATE console_sessions SET last_seen_us = \(PostgresRows.micros(now))
                WHERE id_hash = \(idHash)
                AND last_seen_us > \(PostgresRows.micros(now.addingTimeInterval(-limits.idleTimeout)))
                AND signed_in_at_us > \(PostgresRows.micros(now.addingTimeInterval(-limits.lifetime)))
                RETURNING id_hash, agent, actor, display_name, scopes, signed_in_at_us, last_seen_us, send_forms
                """,
                logger: logger
            ).collect().map(PostgresRows.consoleSession)
            if let session = moved.first { return session }
            try await connection.query("DELETE FROM console_sessions WHERE id_hash = \(idHash)", logger: logger)
            return nil
        }
    }

    public func updateConsoleSendForms(idHash: String, sendForms: String) async throws(StoreError) {
        let logger = logger
        try await withConnection { connection in
            _ = try await connection.query(
                "UPDATE console_sessions SET send_forms = \(sendForms) WHERE id_hash = \(idHash)",
                logger: logger
            )
        }
    }

    public func endConsoleSession(idHash: String) async throws(StoreError) {
        let logger = logger
        try await withConnection { connection in
            _ = try await connection.query("DELETE FROM console_sessions WHERE id_hash = \(idHash)", logger: logger)
        }
    }
}

extension PostgresRows {
    /// A `console_sessions` row, its columns in the order the store selects them.
    static func consoleSession(_ row: PostgresRow) throws -> ConsoleSessionRecord {
        let (idHash, agent, actor, displayName, scopes, signedInAt, lastSeen, sendForms) = try row.decode(
            (String, String, String, String, String, Int64, Int64, String).self
        )
        return ConsoleSessionRecord(
            idHash: idHash,
            agent: agent,
            actor: actor,
            displayName: displayName,
            scopes: scopes.split(separator: " ").map(String.init),
            signedInAt: AuditTime.date(microseconds: signedInAt),
            lastSeen: AuditTime.date(microseconds: lastSeen),
            sendForms: sendForms
        )
    }
}

import Audit
import Foundation
import GRDB
import Store

extension SQLiteStore {
    public func createConsoleSession(
        _ session: ConsoleSessionRecord,
        limits: ConsoleSessionLimits
    ) async throws(StoreError) {
        let now = session.signedInAt
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO console_sessions
                        (id_hash, agent, actor, display_name, scopes, signed_in_at_us, last_seen_us, send_forms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    session.idHash, session.agent, session.actor, session.displayName,
                    session.scopes.joined(separator: " "), SQLiteRows.micros(session.signedInAt),
                    SQLiteRows.micros(session.lastSeen), session.sendForms,
                ]
            )
            try db.execute(
                sql: """
                    DELETE FROM console_sessions WHERE agent = ? AND id_hash NOT IN (
                        SELECT id_hash FROM console_sessions WHERE agent = ?
                        ORDER BY signed_in_at_us DESC, id_hash LIMIT ?
                    )
                    """,
                arguments: [session.agent, session.agent, limits.perAgent]
            )
            try db.execute(
                sql: "DELETE FROM console_sessions WHERE last_seen_us <= ? OR signed_in_at_us <= ?",
                arguments: [
                    SQLiteRows.micros(now.addingTimeInterval(-limits.idleTimeout)),
                    SQLiteRows.micros(now.addingTimeInterval(-limits.lifetime)),
                ]
            )
        }
    }

    public func useConsoleSession(
        idHash: String,
        now: Date,
        limits: ConsoleSessionLimits
    ) async throws(StoreError) -> ConsoleSessionRecord? {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id_hash, agent, actor, display_name, scopes, signed_in_at_us, last_seen_us, send_forms
                        FROM console_sessions WHERE id_hash = ?
                        """,
                    arguments: [idHash]
                )
            else { return nil }
            var session = try SQLiteRows.consoleSession(row)
            guard limits.isLive(signedInAt: session.signedInAt, lastSeen: session.lastSeen, at: now) else {
                try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
                return nil
            }
            session.lastSeen = now
            try db.execute(
                sql: "UPDATE console_sessions SET last_seen_us = ? WHERE id_hash = ?",
                arguments: [SQLiteRows.micros(now), idHash]
            )
            return session
        }
    }

    public func updateConsoleSendForms(idHash: String, sendForms: String) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE console_sessions SET send_forms = ? WHERE id_hash = ?",
                arguments: [sendForms, idHash]
            )
        }
    }

    public func endConsoleSession(idHash: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }
}

extension SQLiteRows {
    /// A `console_sessions` row, its columns in the order the store selects them.
    static func consoleSession(_ row: Row) throws -> ConsoleSessionRecord {
        let scopes: String = row[4]
        let signedIn: Int64 = row[5]
        let lastSeen: Int64 = row[6]
        return ConsoleSessionRecord(
            idHash: row[0],
            agent: row[1],
            actor: row[2],
            displayName: row[3],
            scopes: scopes.split(separator: " ").map(String.init),
            signedInAt: AuditTime.date(microseconds: signedIn),
            lastSeen: AuditTime.date(microseconds: lastSeen),
            sendForms: row[7]
        )
    }
}

import Foundation
import UUIDText

/// Every failure of a `GatewayStore`. Messages never contain recipients, links, codes or keys.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No delivery has this id.
    case deliveryNotFound(UUID)
    /// No batch has this id.
    case batchNotFound(UUID)
    /// A delivery under a batch's item key was refused: the batch is not `running` (paused,
    /// cancelled) — checked in the accept's own transaction, so a cancel's answer is final.
    case batchNotRunning
    /// The delivery is not `sending` (any more): its lease expired and another worker took it, or
    /// it was released or finished.
    case leaseLost(UUID, status: DeliveryStatus)
    /// The database was migrated by a newer version; `unknown` are the migrations this one lacks.
    case schemaTooNew(unknown: [String])
    /// The schema is not (fully) migrated; run `migrate()`.
    case schemaNotMigrated(missing: [String])
    /// Opened read-only (nothing is migrated), the schema is not this version's: `database` is
    /// the newest migration the database has ("none"), `binary` the newest this version has.
    case schemaOlder(database: String, binary: String)
    /// Opened read-only, the schema has migrations this version does not know: `database` is the
    /// newest of them, `binary` the newest migration this version has.
    case schemaNewer(database: String, binary: String)
    /// A query parameter is out of range or malformed.
    case invalidQuery(parameter: String, reason: String)
    /// A stored value cannot be read back (a corrupted or hand-edited row).
    case corruptRow(table: String, column: String)
    /// The database failed (I/O, busy beyond the timeout, constraint…).
    case database(String)
    /// The audit log's head, event `seq`, is sealed by the key `keyID`, not by this gateway's current
    /// key `current`, and the append is not the rotation from it: another gateway writes with another
    /// key, or the key was rotated and this gateway has not been restarted with the new one. Nothing
    /// was written.
    case auditKeyMismatch(seq: Int64, keyID: String, current: String)
    /// The database server cannot be reached (refused, connection lost, shutting down); worth
    /// retrying later. The message names the failure, never the URL or its password.
    case unavailable(String)

    public var description: String {
        switch self {
        case .deliveryNotFound(let id): "no delivery \(id.lowercasedString)"
        case .batchNotFound(let id): "no batch \(id.lowercasedString)"
        case .batchNotRunning: "the batch is not running: its items are not accepted"
        case .leaseLost(let id, let status):
            "delivery \(id.lowercasedString) is \(status.rawValue), not sending: its lease was lost"
        case .schemaTooNew(let unknown):
            "the database schema is newer than this version knows (unknown migrations: "
                + "\(unknown.joined(separator: ", "))); upgrade recovery-gateway"
        case .schemaNotMigrated(let missing):
            "the database schema lacks migrations \(missing.joined(separator: ", ")); run `recovery-gateway migrate`"
        case .schemaOlder(let database, let binary):
            (database == "none" ? "the database has no schema yet" : "the database schema is at \(database)")
                + ", older than this recovery-gateway's \(binary); a read-only command does not migrate: run "
                + "`recovery-gateway migrate` with this version first"
        case .schemaNewer(let database, let binary):
            "the database schema is at \(database), newer than this recovery-gateway's \(binary); use the "
                + "recovery-gateway version that migrated it"
        case .invalidQuery(let parameter, let reason): "invalid \(parameter): \(reason)"
        case .corruptRow(let table, let column): "unreadable value in \(table).\(column)"
        case .database(let message): "database error: \(message)"
        case .unavailable(let message): "database unavailable: \(message)"
        case .auditKeyMismatch(let seq, let keyID, let current):
            "the audit log's head (seq \(seq)) is sealed by key id \(keyID), not by this gateway's audit.key_file "
                + "(key id \(current)): another gateway writes with another audit key, or the key was rotated and "
                + "this gateway still has the old one; nothing was written"
        }
    }
}

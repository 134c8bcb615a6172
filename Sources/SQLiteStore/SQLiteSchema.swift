import GRDB
import Store

/// The SQLite schema as named, ordered migrations. Never edit a shipped step: add a new one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_deliveries") { db in
            try db.execute(
                sql: """
                    CREATE TABLE deliveries (
                        id TEXT PRIMARY KEY NOT NULL,
                        status TEXT NOT NULL
                            CHECK (status IN ('queued', 'sending', 'retrying', 'sent', 'failed')),
                        failure TEXT
                            CHECK (failure IN ('rejected', 'expired', 'identity_gone', 'attempts_exhausted')),
                        identity_id TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        method TEXT NOT NULL CHECK (method IN ('link', 'code')),
                        template TEXT NOT NULL,
                        locale TEXT,
                        expires_in TEXT NOT NULL,
                        deadline_us INTEGER NOT NULL,
                        reason TEXT,
                        transient_payload TEXT,
                        message_id TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        request_id TEXT,
                        api_key_id TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at_us INTEGER,
                        lease_expires_at_us INTEGER,
                        last_error_class TEXT,
                        last_error TEXT,
                        smtp_reply TEXT,
                        created_at_us INTEGER NOT NULL,
                        sent_at_us INTEGER
                    );
                    CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at_us);
                    CREATE INDEX deliveries_lease ON deliveries (status, lease_expires_at_us);
                    CREATE INDEX deliveries_cooldown ON deliveries (identity_id, recipient, created_at_us);
                    CREATE INDEX deliveries_newest ON deliveries (created_at_us DESC, id DESC);
                    """
            )
        }
        migrator.registerMigration("v2_idempotency_records") { db in
            try db.execute(
                sql: """
                    CREATE TABLE idempotency_records (
                        api_key_id TEXT NOT NULL,
                        key TEXT NOT NULL,
                        request_hash TEXT NOT NULL,
                        response_status INTEGER NOT NULL,
                        response_body BLOB NOT NULL,
                        delivery_id TEXT NOT NULL REFERENCES deliveries (id),
                        expires_at_us INTEGER NOT NULL,
                        PRIMARY KEY (api_key_id, key)
                    );
                    CREATE INDEX idempotency_records_expiry ON idempotency_records (expires_at_us);
                    """
            )
        }
        migrator.registerMigration("v3_audit_events") { db in
            // Append-only: the triggers make UPDATE and DELETE abort. Someone with file access can
            // drop them, which the HMAC chain then exposes (`verifyAudit`).
            try db.execute(
                sql: """
                    CREATE TABLE audit_events (
                        seq INTEGER PRIMARY KEY NOT NULL,
                        id TEXT NOT NULL UNIQUE,
                        at_us INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        source_ip TEXT,
                        request_id TEXT,
                        action TEXT NOT NULL,
                        delivery_id TEXT,
                        identity_id TEXT,
                        recipient_hash TEXT,
                        recipient_masked TEXT,
                        outcome TEXT,
                        details TEXT NOT NULL,
                        prev_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    );
                    CREATE INDEX audit_events_at ON audit_events (at_us);
                    CREATE INDEX audit_events_identity ON audit_events (identity_id, seq);
                    CREATE INDEX audit_events_delivery ON audit_events (delivery_id, seq);
                    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                    """
            )
        }
        migrator.registerMigration("v4_kratos_courier") { db in
            // Kratos's courier as a second source: a courier message may have no identity, method or
            // template, so those lose NOT NULL, which SQLite can only do by rebuilding the table
            // (GRDB runs the step with foreign keys off and checks them at its end). The sealed
            // message lives in the row until a final state (`finish` drops it).
            try db.execute(
                sql: """
                    \(deliveriesTable("deliveries_v4", failures: v1Failures))
                    INSERT INTO deliveries_v4 (id, status, failure, identity_id, recipient, method, template, locale,
                        expires_in, deadline_us, reason, transient_payload, message_id, actor, request_id, api_key_id,
                        idempotency_key, attempts, next_attempt_at_us, lease_expires_at_us, last_error_class,
                        last_error, smtp_reply, created_at_us, sent_at_us)
                    SELECT id, status, failure, identity_id, recipient, method, template, locale,
                        expires_in, deadline_us, reason, transient_payload, message_id, actor, request_id, api_key_id,
                        idempotency_key, attempts, next_attempt_at_us, lease_expires_at_us, last_error_class,
                        last_error, smtp_reply, created_at_us, sent_at_us
                    FROM deliveries;
                    \(replaceDeliveries(with: "deliveries_v4"))
                    """
            )
        }
        // The key that sealed each event (issue 17); NULL in the events sealed before it, which keep
        // their version-1 hash. No backfill: the rows are append-only, and the hash does not cover it.
        migrator.registerMigration("v5_audit_key_id") { db in
            try db.execute(sql: "ALTER TABLE audit_events ADD COLUMN key_id TEXT")
        }
        // Batches (issue 16): a batch and its items, idempotent by batch and position. An item is
        // an identity id or login email, kept as a delivery's recipient is; no secret is stored.
        migrator.registerMigration("v6_recovery_batches") { db in
            try db.execute(
                sql: """
                    CREATE TABLE recovery_batches (
                        id TEXT PRIMARY KEY NOT NULL,
                        api_key_id TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        request_hash TEXT NOT NULL,
                        any_recipient INTEGER NOT NULL,
                        source_ip TEXT,
                        request_id TEXT,
                        common TEXT NOT NULL,
                        rate INTEGER NOT NULL,
                        status TEXT NOT NULL
                            CHECK (status IN ('ingesting', 'running', 'paused', 'cancelled', 'done')),
                        total INTEGER NOT NULL DEFAULT 0,
                        ingest_complete INTEGER NOT NULL DEFAULT 0,
                        runner TEXT,
                        runner_lease_until_us INTEGER,
                        created_at_us INTEGER NOT NULL,
                        finished_at_us INTEGER,
                        UNIQUE (api_key_id, idempotency_key)
                    );
                    CREATE INDEX recovery_batches_status ON recovery_batches (status);
                    CREATE TABLE batch_items (
                        batch_id TEXT NOT NULL REFERENCES recovery_batches (id),
                        position INTEGER NOT NULL,
                        item TEXT,
                        outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'accepted', 'not_found',
                            'no_recovery_address', 'recipient_not_allowed', 'cooldown', 'invalid', 'cancelled')),
                        reason TEXT,
                        identity_id TEXT,
                        recipient_masked TEXT,
                        delivery_id TEXT,
                        PRIMARY KEY (batch_id, position)
                    ) WITHOUT ROWID;
                    CREATE INDEX batch_items_outcome ON batch_items (batch_id, outcome, position);
                    """
            )
        }
        // Deliveries of a cancelled batch that no worker had taken yet end as `failed` with the
        // failure `cancelled` (issue 16): a new value of a CHECK, which SQLite can only change by
        // rebuilding the table, as in v4.
        migrator.registerMigration("v7_cancelled_deliveries") { db in
            try db.execute(
                sql: """
                    \(deliveriesTable("deliveries_v7", failures: v1Failures + ", 'cancelled'"))
                    INSERT INTO deliveries_v7 SELECT * FROM deliveries;
                    \(replaceDeliveries(with: "deliveries_v7"))
                    """
            )
        }
        // Batch control (issue 24): why a paused batch is held, and the accept's own check of its
        // batch. A delivery under an item key (`batch:<id>:<position>`, the creator's API key) of a
        // batch that is not `running` is refused in the inserting transaction, so that once a pause
        // or cancel has committed, none of its items is accepted. A later migration that rebuilds
        // `deliveries` (as v4 and v7 did) drops this trigger with the table and must create it again.
        migrator.registerMigration("v8_batch_control") { db in
            try db.execute(
                sql: """
                    ALTER TABLE recovery_batches ADD COLUMN paused_reason TEXT;
                    CREATE TRIGGER deliveries_batch_running BEFORE INSERT ON deliveries
                    WHEN NEW.idempotency_key LIKE 'batch:%'
                    BEGIN
                        SELECT RAISE(ABORT, '\(StoreError.batchNotRunningMessage)')
                        WHERE EXISTS (
                            SELECT 1 FROM recovery_batches
                            WHERE id = substr(NEW.idempotency_key, 7, 36) AND api_key_id = NEW.api_key_id
                            AND status <> 'running'
                        );
                    END;
                    """
            )
        }
        return migrator
    }

    /// The failures a delivery could end with up to v6.
    private static let v1Failures = "'rejected', 'expired', 'identity_gone', 'attempts_exhausted'"

    /// The `deliveries` table as of v4 under `name`, allowing `failures` (SQL literals).
    private static func deliveriesTable(_ name: String, failures: String) -> String {
        """
                    CREATE TABLE \(name) (
                        id TEXT PRIMARY KEY NOT NULL,
                        status TEXT NOT NULL
                            CHECK (status IN ('queued', 'sending', 'retrying', 'sent', 'failed')),
                        failure TEXT
                            CHECK (failure IN (\(failures))),
                        identity_id TEXT,
                        recipient TEXT NOT NULL,
                        method TEXT CHECK (method IN ('link', 'code')),
                        template TEXT,
                        locale TEXT,
                        expires_in TEXT NOT NULL,
                        deadline_us INTEGER NOT NULL,
                        reason TEXT,
                        transient_payload TEXT,
                        message_id TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        request_id TEXT,
                        api_key_id TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at_us INTEGER,
                        lease_expires_at_us INTEGER,
                        last_error_class TEXT,
                        last_error TEXT,
                        smtp_reply TEXT,
                        created_at_us INTEGER NOT NULL,
                        sent_at_us INTEGER,
                        source TEXT NOT NULL DEFAULT 'admin_api' CHECK (source IN ('admin_api', 'kratos_courier')),
                        template_type TEXT,
                        sealed_payload BLOB
                    );
        """
    }

    /// Puts the rebuilt table `name` in place of `deliveries`, with its indexes.
    private static func replaceDeliveries(with name: String) -> String {
        """
                    DROP TABLE deliveries;
                    ALTER TABLE \(name) RENAME TO deliveries;
                    CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at_us);
                    CREATE INDEX deliveries_lease ON deliveries (status, lease_expires_at_us);
                    CREATE INDEX deliveries_cooldown ON deliveries (identity_id, recipient, created_at_us);
                    CREATE INDEX deliveries_newest ON deliveries (created_at_us DESC, id DESC);
                    CREATE INDEX deliveries_source_type ON deliveries (source, template_type, created_at_us);
        """
    }
}

import Audit
import PostgresNIO
import Store

/// The PostgreSQL schema as named, ordered migrations recorded in `schema_migrations`. Never edit
/// a shipped step: add a new one.
///
/// `migrate` runs every missing step in one transaction under `pg_advisory_xact_lock`, so several
/// replicas starting at once queue on the lock: the first applies the steps, the others find them
/// applied. DDL is transactional in PostgreSQL, so a failed step leaves nothing half done.
enum PostgresSchema {
    /// The advisory lock key (two-int form: class, object) that serializes migrations.
    static let lockClass: Int32 = 0x5247_4D31  // "RGM1"

    static let steps: [(name: String, statements: [PostgresQuery])] = [
        (
            "v1_deliveries",
            [
                """
                CREATE TABLE deliveries (
                    id uuid PRIMARY KEY,
                    status text NOT NULL CHECK (status IN ('queued', 'sending', 'retrying', 'sent', 'failed')),
                    failure text CHECK (failure IN ('rejected', 'expired', 'identity_gone', 'attempts_exhausted')),
                    identity_id uuid NOT NULL,
                    recipient text NOT NULL,
                    method text NOT NULL CHECK (method IN ('link', 'code')),
                    template text NOT NULL,
                    locale text,
                    expires_in text NOT NULL,
                    deadline_us bigint NOT NULL,
                    reason text,
                    transient_payload text,
                    message_id text NOT NULL,
                    actor text NOT NULL,
                    request_id text,
                    api_key_id text NOT NULL,
                    idempotency_key text NOT NULL,
                    attempts bigint NOT NULL DEFAULT 0,
                    next_attempt_at_us bigint,
                    lease_expires_at_us bigint,
                    last_error_class text,
                    last_error text,
                    smtp_reply text,
                    created_at_us bigint NOT NULL,
                    sent_at_us bigint
                )
                """,
                "CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at_us)",
                "CREATE INDEX deliveries_lease ON deliveries (status, lease_expires_at_us)",
                "CREATE INDEX deliveries_cooldown ON deliveries (identity_id, lower(recipient), created_at_us)",
                "CREATE INDEX deliveries_newest ON deliveries (created_at_us DESC, id DESC)",
                "CREATE INDEX deliveries_oldest ON deliveries (created_at_us, id)",
            ]
        ),
        (
            "v2_idempotency_records",
            [
                // The primary key decides idempotency across replicas. The delivery is inserted
                // after the key is claimed, so the foreign key is checked at commit.
                """
                CREATE TABLE idempotency_records (
                    api_key_id text NOT NULL,
                    key text NOT NULL,
                    request_hash text NOT NULL,
                    response_status integer NOT NULL,
                    response_body bytea NOT NULL,
                    delivery_id uuid NOT NULL REFERENCES deliveries (id) DEFERRABLE INITIALLY DEFERRED,
                    expires_at_us bigint NOT NULL,
                    PRIMARY KEY (api_key_id, key)
                )
                """,
                "CREATE INDEX idempotency_records_expiry ON idempotency_records (expires_at_us)",
            ]
        ),
        (
            "v3_audit_events",
            [
                """
                CREATE TABLE audit_events (
                    seq bigint PRIMARY KEY,
                    id uuid NOT NULL UNIQUE,
                    at_us bigint NOT NULL,
                    actor text NOT NULL,
                    source_ip text,
                    request_id text,
                    action text NOT NULL,
                    delivery_id uuid,
                    identity_id uuid,
                    recipient_hash text,
                    recipient_masked text,
                    outcome text,
                    details text NOT NULL,
                    prev_hash text NOT NULL,
                    hash text NOT NULL
                )
                """,
                "CREATE INDEX audit_events_at ON audit_events (at_us)",
                "CREATE INDEX audit_events_identity ON audit_events (identity_id, seq)",
                "CREATE INDEX audit_events_delivery ON audit_events (delivery_id, seq)",
                // Append-only: UPDATE, DELETE and TRUNCATE abort. A superuser can drop the
                // triggers, which the HMAC chain then exposes (`verifyAudit`).
                """
                CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
                FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
                """,
                """
                CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
                FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
                """,
                // The chain's head: one row, locked by every append (see PostgresAuditLog).
                """
                CREATE TABLE audit_head (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    seq bigint NOT NULL,
                    hash text NOT NULL
                )
                """,
                "INSERT INTO audit_head (seq, hash) VALUES (0, \(AuditEvent.genesisHash))",
            ]
        ),
        (
            // Kratos's courier as a second source: a courier message may have no identity, method or
            // template; the sealed message lives in the row until a final state (`finish` drops it).
            "v4_kratos_courier",
            [
                "ALTER TABLE deliveries ALTER COLUMN identity_id DROP NOT NULL",
                "ALTER TABLE deliveries ALTER COLUMN method DROP NOT NULL",
                "ALTER TABLE deliveries ALTER COLUMN template DROP NOT NULL",
                """
                ALTER TABLE deliveries
                    ADD COLUMN source text NOT NULL DEFAULT 'admin_api'
                        CHECK (source IN ('admin_api', 'kratos_courier')),
                    ADD COLUMN template_type text,
                    ADD COLUMN sealed_payload bytea
                """,
                "CREATE INDEX deliveries_source_type ON deliveries (source, template_type, created_at_us)",
            ]
        ),
        (
            // The key that sealed each event (issue 17), and the head's, which every append checks
            // (AuditHeadRule); NULL for the events sealed before it, which keep their version-1 hash.
            "v5_audit_key_id",
            [
                "ALTER TABLE audit_events ADD COLUMN key_id text",
                "ALTER TABLE audit_head ADD COLUMN key_id text",
            ]
        ),
        (
            // Batches (issue 16): a batch and its items, idempotent by batch and position. An item is
            // an identity id or login email, kept as a delivery's recipient is; no secret is stored.
            "v6_recovery_batches",
            [
                """
                CREATE TABLE recovery_batches (
                    id uuid PRIMARY KEY,
                    api_key_id text NOT NULL,
                    idempotency_key text NOT NULL,
                    request_hash text NOT NULL,
                    any_recipient boolean NOT NULL,
                    source_ip text,
                    request_id text,
                    common text NOT NULL,
                    rate bigint NOT NULL,
                    status text NOT NULL CHECK (status IN ('ingesting', 'running', 'paused', 'cancelled', 'done')),
                    total bigint NOT NULL DEFAULT 0,
                    ingest_complete boolean NOT NULL DEFAULT false,
                    runner text,
                    runner_lease_until_us bigint,
                    created_at_us bigint NOT NULL,
                    finished_at_us bigint,
                    UNIQUE (api_key_id, idempotency_key)
                )
                """,
                "CREATE INDEX recovery_batches_status ON recovery_batches (status)",
                """
                CREATE TABLE batch_items (
                    batch_id uuid NOT NULL REFERENCES recovery_batches (id),
                    position bigint NOT NULL,
                    item text,
                    outcome text NOT NULL CHECK (outcome IN ('pending', 'accepted', 'not_found',
                        'no_recovery_address', 'recipient_not_allowed', 'cooldown', 'invalid', 'cancelled')),
                    reason text,
                    identity_id uuid,
                    recipient_masked text,
                    delivery_id uuid,
                    PRIMARY KEY (batch_id, position)
                )
                """,
                "CREATE INDEX batch_items_outcome ON batch_items (batch_id, outcome, position)",
            ]
        ),
        (
            // Deliveries of a cancelled batch that no worker had taken yet end as `failed` with the
            // failure `cancelled` (issue 16).
            "v7_cancelled_deliveries",
            [
                "ALTER TABLE deliveries DROP CONSTRAINT deliveries_failure_check",
                """
                ALTER TABLE deliveries ADD CONSTRAINT deliveries_failure_check
                    CHECK (failure IN ('rejected', 'expired', 'identity_gone', 'attempts_exhausted', 'cancelled'))
                """,
            ]
        ),
        (
            // Batch control (issue 24): why a paused batch is held, and the accept's own check of its
            // batch: a delivery under an item key (`batch:<id>:<position>`, the creator's API key) of a
            // batch that is not `running` is refused in the inserting transaction. The batch's row is
            // share-locked, so a pause or cancel (which locks it for update first) either sees the
            // delivery or makes the accept wait and then refuse: after its answer none is accepted.
            "v8_batch_control",
            [
                "ALTER TABLE recovery_batches ADD COLUMN paused_reason text",
                """
                CREATE FUNCTION recovery_batch_accepts() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    batch_status text;
                BEGIN
                    IF NEW.idempotency_key ~ '^batch:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:' THEN
                        SELECT status INTO batch_status FROM recovery_batches
                        WHERE id = CAST(substr(NEW.idempotency_key, 7, 36) AS uuid) AND api_key_id = NEW.api_key_id
                        FOR SHARE;
                        IF batch_status IS NOT NULL AND batch_status <> 'running' THEN
                            RAISE EXCEPTION '\(unescaped: StoreError.batchNotRunningMessage)';
                        END IF;
                    END IF;
                    RETURN NEW;
                END
                $$
                """,
                """
                CREATE TRIGGER deliveries_batch_running BEFORE INSERT ON deliveries
                FOR EACH ROW EXECUTE FUNCTION recovery_batch_accepts()
                """,
            ]
        ),
        (
            // The audit sequencer (issue 29): a request's transaction writes its events here, unlinked,
            // each with its own HMAC (seq 0, an empty prev_hash); the sequencer links them into
            // audit_events and deletes them here, in one transaction. `n` orders them by arrival (a
            // sequence: no lock is shared). Rows are inserted and deleted, never changed.
            "v10_audit_sequencer",
            [
                """
                CREATE TABLE audit_intake (
                    n bigserial PRIMARY KEY,
                    seq bigint NOT NULL CHECK (seq = 0),
                    id uuid NOT NULL,
                    at_us bigint NOT NULL,
                    actor text NOT NULL,
                    source_ip text,
                    request_id text,
                    action text NOT NULL,
                    delivery_id uuid,
                    identity_id uuid,
                    recipient_hash text,
                    recipient_masked text,
                    outcome text,
                    details text NOT NULL,
                    prev_hash text NOT NULL,
                    hash text NOT NULL,
                    key_id text NOT NULL
                )
                """,
                """
                CREATE FUNCTION audit_intake_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_intake rows are inserted and sequenced, never changed'; END $$
                """,
                """
                CREATE TRIGGER audit_intake_no_update BEFORE UPDATE ON audit_intake
                FOR EACH ROW EXECUTE FUNCTION audit_intake_unchanged()
                """,
            ]
        ),
    ]

    static var names: [String] { steps.map(\.name) }

    static func migrate(_ store: PostgresStore) async throws(StoreError) {
        try await store.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockClass), 0)", logger: store.logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: store.logger
            )
            let applied = try await appliedNames(connection, logger: store.logger)
            let unknown = applied.subtracting(names).sorted()
            guard unknown.isEmpty else { throw StoreError.schemaTooNew(unknown: unknown) }
            for step in steps where !applied.contains(step.name) {
                for statement in step.statements {
                    try await connection.query(statement, logger: store.logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (name) VALUES (\(step.name))",
                    logger: store.logger
                )
            }
        }
    }

    /// The applied migrations; none when `schema_migrations` does not exist yet.
    static func applied(_ store: PostgresStore) async throws(StoreError) -> Set<String> {
        try await store.withConnection { connection in
            let exists = try await connection.query(
                "SELECT to_regclass('schema_migrations') IS NOT NULL",
                logger: store.logger
            ).collect()
            guard try exists.first?.decode(Bool.self) == true else { return [] }
            return try await appliedNames(connection, logger: store.logger)
        }
    }

    private static func appliedNames(_ connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        let rows = try await connection.query("SELECT name FROM schema_migrations", logger: logger).collect()
        return Set(try rows.map { try $0.decode(String.self) })
    }
}

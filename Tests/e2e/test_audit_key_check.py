"""The audit key checked at start (issue 17): a gateway given another key than the one that sealed
the log refuses to start, names audit.key_file and the first failing seq, and writes nothing; so do
`migrate` and `audit export`. Real binary, real SQLite file, and two replicas on the test PostgreSQL."""

import base64
import os
import sqlite3
import subprocess

from harness import ALICE, GATEWAY_BIN


def write_key(path, key):
    """What an operator (or a wrongly mounted Secret) does: another key file, mode 0600."""
    os.remove(path)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as f:
        f.write(key)


def snapshot(database):
    """Every row and the schema. (Not the file's bytes: GRDB opens a writable database by creating
    and dropping a table, which bumps the header's change counter and schema cookie.)"""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"audit_events", "deliveries", "idempotency_records"} <= set(tables), tables
        return {
            "schema": connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
            **{table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in tables},
        }
    finally:
        connection.close()


def refused(gateway):
    """`gateway`, just started, must exit 1 on its own; returns its one line on stderr."""
    code = gateway.process.wait(timeout=60)
    gateway.stop()
    with open(gateway.stderr_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert code == 1, gateway.logs()[-2000:]
    assert len(lines) == 1, lines
    return lines[0]


def test_another_key_stops_start_up_and_changes_nothing(stack):
    gateway = stack.start_gateway()
    answer = gateway.send({"identity_id": ALICE, "reason": "before the swap"}, "before-swap", wait=10)
    assert answer.status == 200 and answer.json()["status"] == "sent", answer
    assert gateway.stop() == 0
    database = os.path.join(stack.workdir, "gateway.sqlite")
    key_file = os.path.join(stack.workdir, "audit.key")
    with open(key_file, "rb") as f:
        original = f.read()
    before = snapshot(database)
    assert len(before["audit_events"]) >= 2 and len(before["deliveries"]) == 1, before

    write_key(key_file, os.urandom(32))
    line = refused(gateway.start(ready=False))
    assert "audit.key_file" in line and "first failing seq 1 " in line, line
    for command in (("migrate",), ("audit", "export")):
        result = gateway.cli(*command)
        assert result.returncode == 1, (command, result)
        assert b"audit.key_file" in result.stderr and b"first failing seq 1 " in result.stderr, result.stderr
    verify = gateway.cli("audit", "verify")
    assert verify.returncode == 1 and b"audit chain broken at seq 1" in verify.stderr, verify
    assert b"audit.key_file" in verify.stderr, verify.stderr
    assert snapshot(database) == before
    assert stack.smtp.count() == 1

    # Only the last event when told so (from the environment): the head is the first failing seq.
    head = before["audit_events"][-1][0]

    def migrate(**environment):
        return subprocess.run(
            [str(GATEWAY_BIN), "migrate", "--config", gateway.config],
            cwd=stack.workdir,
            capture_output=True,
            timeout=60,
            env={**os.environ, **environment},
        )

    result = migrate(RECOVERY_GATEWAY_AUDIT_STARTUP_VERIFY_EVENTS="1")
    assert result.returncode == 1 and f"first failing seq {head} ".encode() in result.stderr, result.stderr
    # A key from the environment is named as such.
    result = migrate(RECOVERY_GATEWAY_AUDIT_KEY=base64.b64encode(os.urandom(32)).decode())
    assert result.returncode == 1, result
    assert b"RECOVERY_GATEWAY_AUDIT_KEY: the key does not verify" in result.stderr, result.stderr
    assert snapshot(database) == before

    write_key(key_file, original)
    gateway.start()
    assert gateway.request("GET", "/v1/audit-events/verify").json()["ok"] is True
    answer = gateway.send({"identity_id": ALICE, "reason": "after the swap back"}, "after-swap", wait=10)
    assert answer.status == 200 and answer.json()["status"] == "sent", answer


def test_a_second_replica_with_another_key_refuses_to_start(stack, postgres):
    url = postgres.create_database()
    first = stack.start_gateway(
        overrides={"store.url": url, "audit.key_file": os.path.join(stack.workdir, "first.key")}, name="first"
    )
    answer = first.send({"identity_id": ALICE, "reason": "first replica"}, "first-replica", wait=10)
    assert answer.status == 200 and answer.json()["status"] == "sent", answer
    database = postgres.last_database
    first.audit_ndjson()  # a read of the log: every event written so far is sequenced
    rows = postgres.query(database, "SELECT seq, hash FROM audit_events ORDER BY seq")

    # Its own key file, created on the spot: the replica was given its own key.
    second = stack.start_gateway(
        overrides={"store.url": url, "audit.key_file": os.path.join(stack.workdir, "second.key")},
        name="second",
        ready=False,
    )
    line = refused(second)
    assert "audit.key_file" in line and "first failing seq 1 " in line, line
    assert postgres.query(database, "SELECT seq, hash FROM audit_events ORDER BY seq") == rows
    assert first.request("GET", "/v1/audit-events/verify").json()["ok"] is True

"""The audit chain against a tampered SQLite file, and graceful shutdown on SIGTERM."""

import json
import signal
import sqlite3
import time

from harness import ALICE


def tamper(database, sql, *args):
    """What someone with write access to the file can do: drop the append-only triggers, then edit."""
    connection = sqlite3.connect(database, timeout=10)
    try:
        connection.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        connection.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        changed = connection.execute(sql, args).rowcount
        connection.commit()
        assert changed == 1, f"{sql} changed {changed} rows"
    finally:
        connection.close()


def make_events(gateway, count):
    for n in range(count):
        answer = gateway.send({"identity_id": ALICE, "reason": f"audit {n}"}, f"audit-{n}", wait=10)
        assert answer.status == 200 and answer.json()["status"] == "sent", answer
    events = gateway.audit_ndjson()
    assert len(events) == 2 * count  # requested + sent per delivery
    return events


def test_triggers_refuse_edits_while_the_file_is_intact(gateway):
    make_events(gateway, 1)
    connection = sqlite3.connect(gateway.workdir + "/gateway.sqlite", timeout=10)
    try:
        for sql in ("UPDATE audit_events SET outcome = 'x' WHERE seq = 1", "DELETE FROM audit_events WHERE seq = 1"):
            try:
                connection.execute(sql)
                raise AssertionError(f"{sql} was allowed")
            except sqlite3.DatabaseError as error:
                assert "append-only" in str(error)
    finally:
        connection.close()


def test_edited_event_is_reported_at_its_seq_by_the_api_and_the_cli(gateway):
    events = make_events(gateway, 3)
    verified = gateway.request("GET", "/v1/audit-events/verify")
    assert verified.status == 200 and verified.json()["ok"] is True and verified.json()["events"] == 6, verified
    assert gateway.cli("audit", "verify").returncode == 0

    target = events[2]["seq"]
    details = json.loads(json.dumps(events[2]["details"]))
    details["reason"] = "nothing to see here"
    tamper(
        gateway.workdir + "/gateway.sqlite",
        "UPDATE audit_events SET details = ? WHERE seq = ?",
        json.dumps(details),
        target,
    )

    answer = gateway.request("GET", "/v1/audit-events/verify")
    assert answer.status == 200, answer
    body = answer.json()
    assert body["ok"] is False and body["first_broken_seq"] == target, body
    result = gateway.cli("audit", "verify")
    assert result.returncode == 1, result
    assert f"audit chain broken at seq {target}".encode() in result.stderr, result.stderr


def test_deleted_event_is_reported_as_the_first_missing_seq(gateway):
    make_events(gateway, 2)
    tamper(gateway.workdir + "/gateway.sqlite", "DELETE FROM audit_events WHERE seq = ?", 2)
    body = gateway.request("GET", "/v1/audit-events/verify").json()
    assert body["ok"] is False and body["first_broken_seq"] == 2, body
    result = gateway.cli("audit", "verify")
    assert result.returncode == 1 and b"audit chain broken at seq 2" in result.stderr, result.stderr


def test_sigterm_exits_0_within_seconds(stack, gateway):
    answer = gateway.send({"identity_id": ALICE}, "before-term", wait=10)
    assert answer.status == 200, answer
    started = time.monotonic()
    gateway.process.send_signal(signal.SIGTERM)
    code = gateway.process.wait(timeout=10)
    elapsed = time.monotonic() - started
    print(f"\n[sigterm] exit={code} after {elapsed:.2f}s")
    assert code == 0, gateway.logs()[-2000:]
    assert elapsed < 5

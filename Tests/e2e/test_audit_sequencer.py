"""The audit log off the request path on PostgreSQL (issue 29) and checkpoints that sign only what
verifies (issue 23, item 2). Requests write their events unlinked, each with its own HMAC; every
replica's sequencer links them into the one chain. Real binaries, a real PostgreSQL cluster of the
test's own, the stand-in and aiosmtpd."""

import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from harness import ALICE, GATEWAY_BIN, REPO, message_key, offline_verification, wait_for

CHECKPOINTS = {"audit.checkpoint_interval": "300ms", "audit.checkpoint_every_events": 50}


@pytest.fixture
def replicas(stack, postgres):
    """Starts gateways that share one fresh database and one audit key; returns the start function."""
    url = postgres.create_database()

    def start(count=2, **overrides):
        settings = {"store.url": url, "delivery.lease": "2s", **CHECKPOINTS, **overrides}
        # One after the other: the first creates the key files the others then read.
        return [stack.start_gateway(overrides=settings, name=f"replica{n + 1}") for n in range(count)]

    return start


def ready(gateway):
    """(status, body) of /health/ready."""
    answer = gateway.request("GET", "/health/ready")
    return answer.status, answer.body.decode()


def wait_covered(gateway):
    """The log through `gateway`'s API once nothing waits unsequenced and a checkpoint covers every
    event that is not itself a checkpoint."""

    def covered():
        events = gateway.audit_ndjson()
        logged = [e["seq"] for e in events if e["action"] != "audit.checkpoint"]
        signed = [int(e["details"]["seq"]) for e in events if e["action"] == "audit.checkpoint"]
        return events if logged and signed and max(signed) >= max(logged) else None

    return wait_for(covered, 90, interval=0.3, what="a checkpoint covering every event")


def verify_online(gateway):
    """`GET /v1/audit-events/verify`, waiting out its rate limit."""

    def answered():
        answer = gateway.request("GET", "/v1/audit-events/verify")
        return answer if answer.status != 429 else None

    return wait_for(answered, 30, interval=1, what="a verification not refused by the rate limit").json()


@pytest.mark.parametrize("count", [2, 4])
def test_a_burst_to_every_replica_with_one_killed_loses_no_event_and_the_export_verifies(
    stack, postgres, replicas, tmp_path, capsys, count
):
    workers = 4
    gateways = replicas(count, **{"delivery.workers": workers})
    total = 60 * count
    # 200 ms a link at Kratos: the burst is still going out when the first replica dies.
    stack.stand_in.fault("/admin/recovery/link", 10000, delay_ms=200)

    def accept(n, gateway=None):
        gateway = gateway or gateways[n % count]
        answer = gateway.send({"identity_id": ALICE, "reason": f"burst {n}"}, f"seq-burst-{n}")
        assert answer.status == 202 or (answer.status == 200 and answer.headers.get("Idempotent-Replayed")), answer
        return answer.json()["id"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(accept, n) for n in range(total)]
        wait_for(lambda: stack.smtp.count() >= 10, 60, interval=0.01, what="10 emails before the kill")
        gateways[0].kill9()
        killed_at = stack.smtp.count()
        # A request the killed replica did not answer is sent again, with its key, to a survivor (as a
        # load balancer's retry would): a replay if the dead replica had committed it.
        accepted = []
        for n, future in enumerate(futures):
            try:
                accepted.append(future.result())
            except OSError:
                accepted.append(accept(n, gateways[1]))
    assert killed_at < total, "the burst was over before the kill: nothing was tested"
    survivor = gateways[1]
    deliveries = survivor.wait_all_sent(what="every delivery sent by the surviving replicas")
    assert set(accepted) <= {d["id"] for d in deliveries}, "an accepted delivery was lost"
    time.sleep(0.5)
    received = stack.smtp.received()
    assert set(received) == {message_key(d["message_id"]) for d in deliveries}
    duplicates = sum(received.values()) - len(received)
    # Only what the killed replica had leased can go out twice: at most its workers.
    assert duplicates <= workers

    # Every 202 had its event written before the answer: each accepted delivery has exactly one
    # `email.requested` in the chain, whichever replica accepted it and whichever sequenced it.
    events = wait_covered(survivor)
    requested = collections.Counter(e["delivery_id"] for e in events if e["action"] == "email.requested")
    assert set(requested) == {d["id"] for d in deliveries} and set(requested.values()) == {1}
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    online = verify_online(survivor)
    assert online["ok"] is True and online["unsequenced"] == 0, online
    pending = postgres.query(postgres.last_database, "SELECT count(*) FROM audit_intake")
    assert pending == "0", f"{pending} events were never sequenced"

    result = offline_verification(survivor, survivor, str(tmp_path))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "signed: seq 1-" in out, out
    # Requests never waited for a shared lock: every replica's log says how its sequencer held the head.
    survivor.stop()
    summary = [json.loads(line) for line in survivor.logs().splitlines() if '"group commits"' in line]
    with capsys.disabled():
        print(
            f"\n[sequencer x{count}] accepted={len(accepted)} duplicates={duplicates} events={len(events)} "
            f"emails_at_kill={killed_at} survivor={summary[-1] if summary else 'no summary'}"
        )


def test_a_rewritten_or_deleted_event_in_an_export_is_detected_and_truncation_named(stack, replicas, tmp_path):
    first, second = replicas(2)
    for n in range(6):
        assert (first, second)[n % 2].send({"identity_id": ALICE, "reason": f"t {n}"}, f"tamper-{n}").status == 202
    second.wait_all_sent()
    wait_covered(first)
    # The command line reads only what a sequencer round has linked: wait until the checkpoint is.
    wait_for(
        lambda: '"audit.checkpoint"' in first.cli("audit", "export").stdout.decode(), 30, what="a linked checkpoint"
    )
    # The replicas share one signing key (one key file): either's public key checks what either signed.
    result = offline_verification(first, second, str(tmp_path))
    assert result.returncode == 0, result.stderr
    export = tmp_path / "export.ndjson"
    lines = export.read_text().splitlines(keepends=True)
    requested = next(i for i, line in enumerate(lines) if json.loads(line)["action"] == "email.requested")

    def verify(name, content):
        path = tmp_path / name
        path.write_text("".join(content))
        return subprocess.run(
            [str(GATEWAY_BIN), "audit", "verify", "--file", str(path), "--public-key", str(tmp_path / "audit.pub")],
            capture_output=True,
            timeout=60,
            text=True,
        )

    rewritten = json.loads(lines[requested])
    rewritten["actor"] = "mallory"
    changed = verify("rewritten.ndjson", lines[:requested] + [json.dumps(rewritten) + "\n"] + lines[requested + 1 :])
    assert changed.returncode != 0, changed.stdout
    deleted = verify("deleted.ndjson", lines[:requested] + lines[requested + 1 :])
    assert deleted.returncode != 0, deleted.stdout
    assert f"seq {requested + 2}" in deleted.stdout + deleted.stderr
    # The export starts at seq 1: line i holds seq i + 1.
    checkpoints = [i for i, line in enumerate(lines) if json.loads(line)["action"] == "audit.checkpoint"]
    # Cut right after the last checkpoint: what is left verifies, and the output says where it ends.
    last = checkpoints[-1]
    signed_through = json.loads(lines[last])["details"]["seq"]
    cut = verify("truncated.ndjson", lines[: last + 1])
    assert cut.returncode == 0, cut.stderr
    assert f"linked: seq 1-{last + 1}:" in cut.stdout, cut.stdout
    assert f"signed: seq 1-{signed_through} by the checkpoint at seq {last + 1}," in cut.stdout, cut.stdout
    # Cut before the first checkpoint: the events still link, but nothing proves them.
    unsigned = verify("unsigned.ndjson", lines[: checkpoints[0]])
    assert unsigned.returncode == 1, unsigned.stdout
    assert f"linked: seq 1-{checkpoints[0]}:" in unsigned.stdout, unsigned.stdout
    assert "not proven: no checkpoint signed" in unsigned.stderr, unsigned.stderr


def test_an_unsequenced_event_that_does_not_verify_is_never_sealed_and_breaks_readiness(stack, postgres, replicas):
    first, second = replicas(2)
    assert first.send({"identity_id": ALICE, "reason": "before"}, "before-forgery").status == 202
    first.wait_all_sent()
    wait_covered(first)
    database = postgres.last_database
    key_id = postgres.query(database, "SELECT key_id FROM audit_events WHERE key_id IS NOT NULL LIMIT 1")
    # Someone with write access to the database (but not the HMAC key) slips an event in.
    postgres.query(
        database,
        f"""
        INSERT INTO audit_intake (seq, id, at_us, actor, action, details, prev_hash, hash, key_id)
        VALUES (0, gen_random_uuid(), 0, 'mallory', 'email.requested', '{{}}', '', repeat('a', 64), '{key_id}')""",
    )
    for gateway in (first, second):
        wait_for(lambda g=gateway: ready(g)[0] == 503, 30, interval=0.2, what="readiness to report the break")
        status, body = ready(gateway)
        assert "audit log is broken" in body and "intake position" in body, body
        assert "mallory" not in gateway.logs()
        assert re.search(
            r'recovery_gateway_audit_breaks_total\{found_by="sequencer"\} [1-9]',
            gateway.request("GET", "/metrics").body.decode(),
        )
    online = verify_online(first)
    assert online["ok"] is False and "unsequenced event" in online["reason"], online
    assert postgres.query(database, "SELECT count(*) FROM audit_events WHERE actor = 'mallory'") == "0"
    # Sends go on: an accepted delivery is still sent, and its event still sealed.
    answer = second.send({"identity_id": ALICE, "reason": "after"}, "after-forgery")
    assert answer.status == 202, answer
    second.wait_status(answer.json()["id"], {"sent"})


def test_a_checkpoint_never_signs_an_event_rewritten_in_the_database(stack, postgres, replicas, tmp_path):
    """Issue 23: with the append-only triggers dropped and a trigger rewriting each new
    `email.requested` event's actor as it is stored, no checkpoint covers the rewritten events: the
    checkpointer stops before the first, logs its seq and fails readiness."""
    (gateway,) = replicas(1)
    assert gateway.send({"identity_id": ALICE, "reason": "clean"}, "clean-1").status == 202
    gateway.wait_all_sent()
    clean = wait_covered(gateway)
    database = postgres.last_database
    postgres.query(
        database,
        """
        DROP TRIGGER audit_events_no_change ON audit_events;
        CREATE FUNCTION launder() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.actor := 'mallory'; RETURN NEW; END $$;
        CREATE TRIGGER launder BEFORE INSERT ON audit_events FOR EACH ROW
        WHEN (NEW.action = 'email.requested') EXECUTE FUNCTION launder();""",
    )
    assert gateway.send({"identity_id": ALICE, "reason": "laundered"}, "laundered-1").status == 202
    gateway.wait_all_sent()
    wait_for(lambda: ready(gateway)[0] == 503, 30, interval=0.2, what="readiness to report the break")
    rewritten = int(postgres.query(database, "SELECT min(seq) FROM audit_events WHERE actor = 'mallory'"))
    assert f"seq {rewritten}" in ready(gateway)[1]
    assert re.search(rf'"seq":"{rewritten}"', gateway.logs()), "the error names the seq"
    time.sleep(1.5)  # several checkpoint intervals with events to sign
    signed = [int(e["details"]["seq"]) for e in gateway.audit_ndjson() if e["action"] == "audit.checkpoint"]
    assert signed and max(signed) < rewritten, (signed, rewritten)
    assert max(signed) >= max(e["seq"] for e in clean if e["action"] != "audit.checkpoint")
    # The command line fails closed on the rewritten log, naming the seq: nothing exports it as sound.
    exported = gateway.cli("audit", "export", "--output", str(tmp_path / "export.ndjson"))
    assert exported.returncode != 0
    assert f"first failing seq {rewritten}" in exported.stderr.decode()


def test_key_rotation_while_several_replicas_run_loses_nothing(stack, postgres, replicas, tmp_path):
    first, second, third = replicas(3)
    for n in range(6):
        assert (first, second, third)[n % 3].send({"identity_id": ALICE, "reason": f"r {n}"}, f"rot-{n}").status == 202
    # A new key (serve creates the file); the first replica restarts with it, the old one kept as a
    # previous key. The others still run on the old key only: their events are sealed into the chain
    # by the rotated replica's sequencer.
    old_key = os.path.join(stack.workdir, "audit.key")
    new_key = os.path.join(stack.workdir, "audit-2.key")
    assert first.stop() == 0
    rotated = stack.start_gateway(
        overrides={
            "store.url": postgres.database_url(postgres.last_database),
            "delivery.lease": "2s",
            **CHECKPOINTS,
            "audit.key_file": new_key,
            "audit.previous_key_files": [old_key],
        },
        name="replica1-rotated",
    )
    for n in range(9):
        gateway = (rotated, second, third)[n % 3]
        assert gateway.send({"identity_id": ALICE, "reason": f"after {n}"}, f"rot-after-{n}").status == 202
    rotated.wait_all_sent()
    events = wait_covered(rotated)
    rotations = [e for e in events if e["action"] == "audit.key_rotated"]
    assert len(rotations) == 1
    after = [e for e in events if e["seq"] > rotations[0]["seq"]]
    assert {e["key_id"] for e in after} == {rotations[0]["key_id"]}
    assert sum(e["action"] == "email.requested" for e in events) == 15
    online = verify_online(rotated)
    assert online["ok"] is True and online["unsequenced"] == 0, online
    result = offline_verification(rotated, rotated, str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_a_store_written_before_the_sequencer_upgrades_and_still_verifies(stack, postgres, replicas, tmp_path):
    """An upgrade: the store the gateway at 03ac639 left (schema up to v8, events sealed in each
    request's transaction; Tests/Fixtures/postgres-v8, made by its make.py with that binary) is
    migrated by this one, its events keep verifying with the key files it used, and its requests
    replay the answers it gave byte for byte."""
    fixture = REPO / "Tests" / "Fixtures" / "postgres-v8"
    database = postgres.last_database
    restored = subprocess.run(
        [
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            postgres.database_url(database),
            "-f",
            str(fixture / "store.sql"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert restored.returncode == 0, restored.stderr
    for name in ("audit.key", "audit-signing.key"):
        target = os.path.join(stack.workdir, name)
        shutil.copyfile(fixture / name, target)
        os.chmod(target, 0o600)
    before_migrations = postgres.query(database, "SELECT string_agg(name, ',' ORDER BY name) FROM schema_migrations")
    assert "v8_batch_control" in before_migrations and "v10" not in before_migrations, before_migrations
    stored = int(postgres.query(database, "SELECT count(*) FROM audit_events"))
    (gateway,) = replicas(1)
    assert "v10_audit_sequencer" in postgres.query(database, "SELECT string_agg(name, ',') FROM schema_migrations")
    # Its events (three sends, their outcomes, a checkpoint or more) still verify, online and offline.
    before = gateway.audit_ndjson()
    assert [e["seq"] for e in before] == list(range(1, stored + 1)), [e["action"] for e in before]
    assert [e["action"] for e in before].count("email.sent") == 3
    assert verify_online(gateway)["ok"] is True
    # Its requests replay what it answered, byte for byte, and send nothing again.
    answers = json.loads((fixture / "answers.json").read_text())
    for key, body in answers.items():
        n = key.rsplit("-", 1)[1]
        replay = gateway.send({"identity_id": ALICE, "reason": f"before {n}"}, key)
        assert replay.status == 202 and replay.headers.get("Idempotent-Replayed") == "true", replay
        assert replay.body.decode() == body
    # New sends go through the sequencer after the old chain.
    assert gateway.send({"identity_id": ALICE, "reason": "after upgrade"}, "upgrade-after").status == 202
    gateway.wait_all_sent()
    assert stack.smtp.count() == 1
    after = wait_covered(gateway)
    assert after[: len(before)] == before
    assert verify_online(gateway)["ok"] is True
    result = offline_verification(gateway, gateway, str(tmp_path))
    assert result.returncode == 0, result.stderr

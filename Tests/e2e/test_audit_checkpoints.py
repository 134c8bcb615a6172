"""Signed checkpoints written by `serve` (issue 17): an export verifies offline with the public key
printed by `audit public-key`, with no configuration, database or secret; and the documented
manual procedure (python3 + openssl) agrees with it."""

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import time

import pytest

from harness import ALICE, GATEWAY_BIN, offline_verification, wait_for


def exported(gateway):
    """The whole audit log, through `audit export` (the API's NDJSON answer is one page of it)."""
    return [json.loads(line) for line in gateway.cli("audit", "export").stdout.splitlines()]


def wait_all_covered(gateway, count):
    """The audit log once it holds `count` events besides checkpoints and ends with a checkpoint of them all."""

    def covered():
        events = exported(gateway)
        last = events[-1]
        logged = [e["seq"] for e in events if e["action"] != "audit.checkpoint"]
        return (
            len(logged) == count
            and last["action"] == "audit.checkpoint"
            and int(last["details"]["seq"]) >= max(logged)
            and events
        )

    return wait_for(covered, 60, what=f"a checkpoint of all {count} events")


def test_serve_writes_checkpoints_that_verify_offline(stack, tmp_path):
    gateway = stack.start_gateway(overrides={"audit.checkpoint_interval": "300ms", "audit.checkpoint_every_events": 3})
    for n in range(4):
        answer = gateway.send({"identity_id": ALICE, "reason": f"checkpoint {n}"}, f"checkpoint-{n}")
        assert answer.status == 202, answer
    gateway.wait_all_sent()
    events = wait_all_covered(gateway, 8)
    total, count = len(events), sum(e["action"] == "audit.checkpoint" for e in events)
    assert count >= 1
    key_file = os.path.join(gateway.workdir, "audit-signing.key")
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    time.sleep(1)  # three intervals with no new event
    gateway.stop()
    # The interval passed more than once with no new event: no checkpoint was added.
    assert exported(gateway) == events

    auditor = tmp_path / "auditor"
    auditor.mkdir()
    export = auditor / "export.ndjson"
    assert gateway.cli("audit", "export", "--output", str(export)).returncode == 0
    printed = gateway.cli("audit", "public-key")
    assert printed.returncode == 0, printed.stderr
    (auditor / "audit.pub").write_bytes(printed.stdout)
    result = subprocess.run(
        [str(GATEWAY_BIN), "audit", "verify", "--file", "export.ndjson", "--public-key", "audit.pub"],
        cwd=auditor,
        capture_output=True,
        timeout=60,
    )
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    covered = int(events[-1]["details"]["seq"])
    assert f"linked: seq 1-{total}:" in out, out
    assert f"signed: seq 1-{covered} by the checkpoint at seq {total}" in out, out
    assert f"({count} checkpoints verified)" in out, out
    assert manual_procedure(export, auditor / "audit.pub") == covered


def manual_procedure(export, public_key):
    """docs/auditors.md's procedure without the binary: recompute the digest with python3, check
    the last checkpoint's signature with openssl. Returns the seq it covers."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")

    def text(value):
        data = value.encode()
        return struct.pack(">I", len(data)) + data

    def optional(value):
        return b"\x00" if value is None else b"\x01" + text(value)

    def micros(at):
        whole, fraction = at[:-1].split(".")
        import datetime

        seconds = datetime.datetime.fromisoformat(whole + "+00:00").timestamp()
        return int(seconds) * 1_000_000 + int(fraction)

    digest, digests, events = bytes(32), {}, []
    for line in open(export, encoding="utf-8"):
        e = json.loads(line)
        events.append(e)
        details = sorted(e["details"].items(), key=lambda kv: kv[0].encode())
        # Version 2 (the event names its key) ends with key_id; version 1 (it does not) has neither.
        key_id = e.get("key_id")
        magic = b"RGAUDIT2" if key_id else b"RGAUDIT1"
        canonical = (
            magic
            + struct.pack(">q", e["seq"])
            + text(e["id"])
            + struct.pack(">q", micros(e["at"]))
            + text(e["actor"])
            + optional(e.get("source_ip"))
            + optional(e.get("request_id"))
            + text(e["action"])
            + optional(e.get("delivery_id"))
            + optional(e.get("identity_id"))
            + optional(e.get("recipient_hash"))
            + optional(e.get("recipient_masked"))
            + optional(e.get("outcome"))
            + struct.pack(">q", len(details))
            + b"".join(text(k) + text(v) for k, v in details)
            + text(e["prev_hash"])
            + (text(key_id) if key_id else b"")
        )
        digest = hashlib.sha256(digest + canonical + e["hash"].encode()).digest()
        digests[e["seq"]] = digest.hex()
    checkpoint = [e for e in events if e["action"] == "audit.checkpoint"][-1]["details"]
    assert digests[int(checkpoint["seq"])] == checkpoint["digest"]
    directory = os.path.dirname(export)
    message = os.path.join(directory, "message")
    signature = os.path.join(directory, "signature")
    with open(message, "w") as f:
        f.write(
            f"recovery-gateway audit checkpoint v1\nseq={checkpoint['seq']}\ndigest={checkpoint['digest']}\n"
            f"head={checkpoint['head']}\nat={checkpoint['signed_at']}\n"
        )
    with open(signature, "wb") as f:
        f.write(base64.b64decode(checkpoint["signature"]))
    verified = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(public_key),
            "-rawin",
            "-in",
            message,
            "-sigfile",
            signature,
        ],
        capture_output=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return int(checkpoint["seq"])


def test_two_replicas_on_postgresql_both_checkpoint_and_the_export_verifies(stack, postgres, tmp_path):
    settings = {
        "store.url": postgres.create_database(),
        "audit.checkpoint_interval": "200ms",
        "audit.checkpoint_every_events": 2,
    }
    # One after the other: the first creates the key files the second then reads.
    first, second = [stack.start_gateway(overrides=settings, name=f"replica{n + 1}") for n in range(2)]
    for n in range(10):
        gateway = (first, second)[n % 2]
        answer = gateway.send({"identity_id": ALICE, "reason": f"replica checkpoint {n}"}, f"rc-{n}")
        assert answer.status == 202, answer
    first.wait_all_sent()

    events = wait_all_covered(first, 20)
    writers = {e["details"]["signed_at"] for e in events if e["action"] == "audit.checkpoint"}
    assert len(writers) >= 2
    result = offline_verification(second, first, str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "signed: seq 1-" in result.stdout.decode()

"""Audit key rotation (issue 17) with the real binary: `audit rotate-key` while a gateway serves
(the old-key gateway then refuses to write, 503, naming audit.key_file), a restart with the printed
configuration, and rotation at start-up; verification (API, CLI, offline) passes across the
rotation, and removing the old key makes verify name the missing key id."""

import json
import os
import re

from harness import ALICE, offline_verification, wait_for


def exported(gateway):
    return [json.loads(line) for line in gateway.cli("audit", "export").stdout.splitlines()]


def sent(gateway, reason, key):
    answer = gateway.send({"identity_id": ALICE, "reason": reason}, key, wait=10)
    assert answer.status == 200 and answer.json()["status"] == "sent", answer


def test_rotate_key_while_serving_then_restart_with_the_printed_lines(stack, tmp_path):
    settings = {"audit.checkpoint_interval": "200ms", "audit.checkpoint_every_events": 2}
    gateway = stack.start_gateway(overrides=settings)
    sent(gateway, "before the rotation", "before-rotation")
    old_file = os.path.join(stack.workdir, "audit.key")
    new_file = os.path.join(stack.workdir, "keys", "audit-2.key")

    rotated = gateway.cli("audit", "rotate-key", "--new-key-file", new_file)
    assert rotated.returncode == 0, rotated.stderr
    out = rotated.stdout.decode()
    assert re.match(r"rotated the audit log at seq \d+: key id [0-9a-f]{16} -> [0-9a-f]{16}\n", out), out
    signing_file = os.path.join(stack.workdir, "audit-signing.key")
    assert f"  key_file: {new_file}\n  previous_key_files: [{old_file}]\n  signing_key_file: {signing_file}\n" in out, (
        out
    )
    assert os.stat(new_file).st_mode & 0o777 == 0o600
    # The old configuration no longer opens the log (`audit export` fails closed); the API still reads it.
    assert gateway.cli("audit", "export").returncode == 1
    rotation = [e for e in gateway.audit_ndjson() if e["action"] == "audit.key_rotated"]
    assert len(rotation) == 1 and rotation[0]["key_id"] == rotation[0]["details"]["to_key_id"], rotation
    assert set(rotation[0]["details"]) == {"from_key_id", "to_key_id", "old_key_mac"}, rotation

    # The gateway still on the old key writes nothing more: 503, and its log names the key file.
    refused = gateway.send({"identity_id": ALICE, "reason": "old key"}, "old-key")
    assert refused.status == 503 and refused.json()["code"] == "store_unavailable", refused
    assert "audit.key_file" in gateway.logs() and "another audit key" in gateway.logs()
    assert gateway.stop() == 0

    # The printed lines, as the operator sets them (the signing key stays: the export verifies with one public key).
    overrides = {
        **settings,
        "audit.key_file": new_file,
        "audit.previous_key_files": [old_file],
        "audit.signing_key_file": signing_file,
    }
    restarted = stack.start_gateway(overrides=overrides, name="restarted")
    sent(restarted, "after the rotation", "after-rotation")
    verification = restarted.request("GET", "/v1/audit-events/verify").json()
    assert verification["ok"] is True, verification
    verify = restarted.cli("audit", "verify")
    # (The checkpointer may have added events since.)
    checked = re.match(rb"ok: (\d+) events, head ", verify.stdout)
    assert verify.returncode == 0 and checked and int(checked.group(1)) >= verification["events"], verify

    # An export spanning the rotation verifies offline once a checkpoint covers every event (the
    # rotation and the delivery after it included).
    def covered():
        events = exported(restarted)
        logged = [e["seq"] for e in events if e["action"] != "audit.checkpoint"]
        signed = [int(e["details"]["seq"]) for e in events if e["action"] == "audit.checkpoint"]
        return max(logged) > rotation[0]["seq"] and signed and max(signed) >= max(logged)

    wait_for(covered, 60, what="a checkpoint after the rotation")
    offline = offline_verification(restarted, restarted, str(tmp_path))
    assert offline.returncode == 0, offline.stderr
    assert re.search(r"^signed: seq 1-(\d+) ", offline.stdout.decode(), re.M), offline.stdout
    assert int(re.search(r"^signed: seq 1-(\d+) ", offline.stdout.decode(), re.M).group(1)) > rotation[0]["seq"]
    assert restarted.stop() == 0

    # Without the old key, start-up and verify name the key id that is missing, not an edit.
    old_id = rotation[0]["details"]["from_key_id"]
    forgetful = stack.start_gateway(overrides={**settings, "audit.key_file": new_file}, name="forgetful", ready=False)
    code = forgetful.process.wait(timeout=60)
    forgetful.stop()
    assert code == 1
    message = f"event seq 1 was sealed by key id {old_id}, which is not in audit.key_file or audit.previous_key_files"
    assert message in forgetful.logs(), forgetful.logs()[-2000:]
    verify = forgetful.cli("audit", "verify")
    assert verify.returncode == 1 and message.encode() in verify.stderr, verify.stderr
    assert b"edited" not in verify.stderr


def test_starting_with_a_new_key_and_the_old_one_listed_rotates_at_start_up(stack):
    gateway = stack.start_gateway()
    sent(gateway, "before the new key", "before-new-key")
    assert gateway.stop() == 0
    old_file = os.path.join(stack.workdir, "audit.key")
    new_file = os.path.join(stack.workdir, "audit-2.key")  # created by serve, 0600

    overrides = {"audit.key_file": new_file, "audit.previous_key_files": [old_file]}
    rotated = stack.start_gateway(overrides=overrides, name="rotated")
    events = exported(rotated)
    assert events[-1]["action"] == "audit.key_rotated", events[-1]
    assert events[-1]["details"]["from_key_id"] == events[-2]["key_id"] != events[-1]["key_id"], events[-2:]
    assert '"audit key rotated"' in rotated.logs()
    sent(rotated, "after the new key", "after-new-key")
    assert rotated.request("GET", "/v1/audit-events/verify").json()["ok"] is True
    assert rotated.stop() == 0
    # A second start rotates nothing more.
    rotated.start()
    assert [e["action"] for e in exported(rotated)].count("audit.key_rotated") == 1

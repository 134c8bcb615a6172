"""The gateway's log lines as an operator sees them: one line per request and per delivery attempt,
with the fields that tie them together (request id, delivery id, masked recipient, outcome,
duration); the level from the config file or RECOVERY_GATEWAY_LOGGING_LEVEL; JSON lines by default,
a plain one-line format for terminals."""

import json
import os
import sqlite3

import pytest

from harness import ALICE

MASKED = "f***@o***.sh"


def stdout_lines(gateway):
    with open(gateway.stdout_path, encoding="utf-8") as f:
        return [line for line in f.read().splitlines() if line.strip()]


def send_with_one_retry(stack, gateway, request_id):
    """A link delivery Kratos fails once (503): two attempts, the second sent."""
    stack.stand_in.fault("/admin/recovery/link", 1, status=503)
    answer = gateway.send(
        {"identity_id": ALICE, "method": "link"}, "log-" + request_id, wait=15, headers={"X-Request-Id": request_id}
    )
    assert answer.status == 200 and answer.json()["status"] == "sent" and answer.json()["attempts"] == 2, answer
    return answer.json()["id"]


def test_json_lines_one_per_request_and_per_attempt(stack):
    gateway = stack.start_gateway()
    delivery = send_with_one_retry(stack, gateway, "req-json-1")
    gateway.request("GET", f"/v1/recovery-emails/{delivery}", headers={"X-Request-Id": "req-json-2"})
    gateway.request("GET", "/no-such-route", key=None, headers={"X-Request-Id": "req-json-3"})
    assert gateway.stop() == 0

    lines = [json.loads(line) for line in stdout_lines(gateway)]  # every stdout line is one JSON object
    assert all({"ts", "level", "msg", "logger"} <= line.keys() for line in lines)
    by_request = {}
    for line in lines:
        if line["msg"] == "request":
            by_request.setdefault(line["request_id"], []).append(line)

    [post] = by_request["req-json-1"]
    assert (post["method"], post["route"], post["status"]) == ("POST", "/v1/recovery-emails", "200")
    assert (post["delivery_id"], post["recipient"], post["replayed"]) == (delivery, MASKED, "false")
    assert float(post["duration_ms"]) >= 0
    [show] = by_request["req-json-2"]
    assert show["status"] == "200" and delivery not in show["route"], show  # the pattern, not the path
    [unmatched] = by_request["req-json-3"]
    assert (unmatched["route"], unmatched["status"], unmatched["path"]) == ("unmatched", "404", "/no-such-route")

    attempts = [line for line in lines if line["msg"] == "delivery attempt"]
    assert [a["outcome"] for a in attempts] == ["retrying", "sent"]
    assert [a["attempt"] for a in attempts] == ["1", "2"]
    for a in attempts:
        assert (a["request_id"], a["delivery_id"], a["recipient"]) == ("req-json-1", delivery, MASKED)
        assert float(a["duration_ms"]) >= 0
    assert "Kratos" in attempts[0]["error"] and "503" in attempts[0]["error"], attempts[0]


@pytest.mark.parametrize(
    "file_level,env_level,debug_lines,info_lines",
    [("info", None, False, True), ("debug", None, True, True), ("debug", "warning", False, False)],
)
def test_level_from_file_and_environment(stack, monkeypatch, file_level, env_level, debug_lines, info_lines):
    if env_level:
        monkeypatch.setenv("RECOVERY_GATEWAY_LOGGING_LEVEL", env_level)
    gateway = stack.start_gateway(overrides={"logging.level": file_level})
    answer = gateway.send({"identity_id": ALICE, "method": "code"}, "log-level", wait=15)
    assert answer.json()["status"] == "sent", answer
    assert gateway.stop() == 0
    levels = {json.loads(line)["level"] for line in stdout_lines(gateway)}
    assert ("debug" in levels) == debug_lines, levels
    assert ("info" in levels) == info_lines, levels
    if env_level:
        assert levels <= {"warning", "error", "critical"}, levels


def test_plain_format_one_readable_line_each(stack):
    gateway = stack.start_gateway(overrides={"logging.format": "plain"})
    delivery = send_with_one_retry(stack, gateway, "req-plain-1")
    assert gateway.stop() == 0

    lines = stdout_lines(gateway)
    assert lines and not any(line.lstrip().startswith("{") for line in lines), lines[:3]
    [post] = [line for line in lines if "request_id=req-plain-1" in line and line.endswith(" request")]
    for field in (
        "method=POST",
        "route=/v1/recovery-emails",
        "status=200",
        f"delivery_id={delivery}",
        f"recipient={MASKED}",
        "duration_ms=",
    ):
        assert field in post, (field, post)
    assert " info " in post
    attempts = [line for line in lines if line.endswith(" delivery attempt")]
    assert len(attempts) == 2
    assert "outcome=retrying" in attempts[0] and "outcome=sent" in attempts[1], attempts
    assert all(f"delivery_id={delivery}" in a and f"recipient={MASKED}" in a for a in attempts)


def test_a_store_failure_is_logged_once_with_the_request_id(stack):
    """A store that fails (here a table gone, as a schema bug would leave it) still answers 503
    store_unavailable, and the operator finds why in the log, once, under the request's id."""
    gateway = stack.start_gateway()
    connection = sqlite3.connect(os.path.join(gateway.workdir, "gateway.sqlite"), timeout=10)
    connection.execute("DROP TABLE idempotency_records")
    connection.execute("ALTER TABLE deliveries RENAME TO deliveries_gone")
    connection.commit()
    connection.close()

    posted = gateway.send({"identity_id": ALICE}, "store-broken", headers={"X-Request-Id": "req-store-1"})
    assert posted.status == 503 and posted.json()["code"] == "store_unavailable", posted
    listed = gateway.request("GET", "/v1/recovery-emails", headers={"X-Request-Id": "req-store-2"})
    assert listed.status == 503 and listed.json()["code"] == "store_unavailable", listed
    assert gateway.stop() == 0

    lines = [json.loads(line) for line in stdout_lines(gateway)]
    for request_id, table in (("req-store-1", "idempotency_records"), ("req-store-2", "deliveries")):
        [failure] = [line for line in lines if line.get("request_id") == request_id and line["level"] == "error"]
        assert failure["msg"] == "store failed", failure
        assert f"no such table: {table}" in failure["error"], failure

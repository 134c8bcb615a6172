"""The API document (openapi.yaml): served from the binary byte for byte, and kept by the server.

schemathesis runs every operation against a live gateway (the stand-in and aiosmtpd behind it) and must
find no 5xx, no undocumented status, no wrong content type, no body or header that does not match. The
answers random input rarely reaches (429, 503, 413, a broken chain, the NDJSON and CSV exports) are
provoked one by one and checked against the document with the same schemathesis checks."""

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys

import jsonschema
import pytest
import schemathesis
import yaml
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness import ALICE, KEYS, NO_RECOVERY, REPO, http

DOCUMENT = REPO / "openapi.yaml"
# Per operation and phase (the coverage phase adds its own deterministic cases): under a minute on 2 cores.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "200"))
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
CHECK_FUNCTIONS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def bearer(name):
    return {"Authorization": "Bearer " + KEYS[name][0]}


def test_served_document_is_the_repository_file(gateway):
    answer = http("GET", gateway.url + "/openapi.yaml")
    assert answer.status == 200, answer
    assert answer.headers["Content-Type"] == "application/yaml", answer.headers
    assert answer.headers["X-Request-Id"]
    assert answer.body == DOCUMENT.read_bytes()
    # Every route the gateway has is in it (a new route without a document entry fails here).
    paths = yaml.safe_load(answer.body)["paths"]
    for route in [
        "/v1/recovery-emails",
        "/v1/recovery-emails/{id}",
        "/v1/recovery-batches",
        "/v1/audit-events",
        "/v1/audit-events/verify",
        "/v1/courier/kratos",
        "/health/alive",
        "/health/ready",
        "/metrics",
        "/openapi.yaml",
    ]:
        assert route in paths, route
    # The support console's HTML pages are not JSON API operations (Tests/e2e/test_console.py covers them).
    assert not [path for path in paths if path.startswith("/console")]


def test_schemathesis_finds_nothing_against_a_live_gateway(stack, tmp_path):
    # The harness's config already turns the cooldown off and the rate limits up, so 429s stay rare.
    gateway = stack.start_gateway()
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        gateway.url + "/openapi.yaml",
        "--url",
        gateway.url,
        "--header",
        "Authorization: " + bearer("admin")["Authorization"],
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--workers",
        "2",
        "--seed",
        os.environ.get("SCHEMATHESIS_SEED", "1"),
        "--generation-with-security-parameters",
        "false",
        "--generation-database",
        "none",
        "--request-timeout",
        "40",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    print(run.stdout[-20000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:] + gateway.logs()[-3000:]
    # Every operation was tested.
    selected, total = map(int, re.search(r"Selected: (\d+)/(\d+)", run.stdout).groups())
    tested = int(re.search(r"Tested: (\d+)", run.stdout).group(1))
    assert tested == selected == total, run.stdout[-3000:]
    generated, passed = map(int, re.search(r"(\d+) generated, (\d+) passed", run.stdout).groups())
    assert generated == passed and generated >= 20 * total, run.stdout[-3000:]


@pytest.fixture
def document():
    return schemathesis.openapi.from_path(str(DOCUMENT))


def header(response, name):
    """One header of a schemathesis response (it keeps them lower-cased, as lists)."""
    return response.headers[name.lower()][0]


class Conformance:
    """Sends one request as an operation of the document and checks the answer with schemathesis's checks."""

    def __init__(self, document, gateway):
        self.document = document
        self.gateway = gateway

    def __call__(self, method, path, status, code=None, body=None, headers=None, path_parameters=None, query=None):
        operation = self.document[path][method]
        arguments = {"body": body} if body is not None else {}
        case = operation.Case(
            headers=headers or {},
            path_parameters=path_parameters or {},
            query=query or {},
            **arguments,
        )
        response = case.call(base_url=self.gateway.url)
        assert response.status_code == status, (response.status_code, response.text)
        # A 503 provoked on purpose (Kratos down) is checked against the document like any answer.
        checks = [c for c in CHECK_FUNCTIONS if status < 500 or c is not not_a_server_error]
        case.validate_response(response, checks=checks)
        if code is not None:
            assert response.json()["code"] == code, response.text
        return response


def test_rare_answers_match_the_document(stack, document):
    gateway = stack.start_gateway(
        overrides={
            "delivery.cooldown": "60s",
            "delivery.rate_per_key": 1,
            "delivery.burst_per_key": 8,
            "server.max_body_bytes": 2048,
        }
    )
    check = Conformance(document, gateway)
    post, emails = "POST", "/v1/recovery-emails"

    def send(key, idempotency_key, body, status, code=None, **headers):
        return check(
            post,
            emails,
            status,
            code,
            body=body,
            headers={**bearer(key), "Idempotency-Key": idempotency_key, **headers},
        )

    accepted = send("backend", "first", {"identity_id": ALICE}, 202)
    assert header(accepted, "Location") == "/v1/recovery-emails/" + accepted.json()["id"]
    replayed = send("backend", "first", {"identity_id": ALICE}, 202)
    assert header(replayed, "Idempotent-Replayed") == "true"
    send("backend", "first", {"identity_id": ALICE, "method": "code"}, 422, "idempotency_key_reused")
    cooldown = send("backend", "second", {"identity_id": ALICE}, 429, "cooldown")
    assert int(header(cooldown, "Retry-After")) >= 1
    send("backend", "third", {"identity_id": NO_RECOVERY}, 422, "no_recovery_address")
    send("backend", "fourth", {"identity_id": ALICE, "recipient": "x@example.com"}, 403, "recipient_not_allowed")
    send("backend", "fifth", {"identity_id": "11111111-2222-4333-8444-555555555555"}, 404, "identity_not_found")
    send("reader", "sixth", {"identity_id": ALICE}, 403, "insufficient_scope")
    check(post, emails, 401, "unauthorized", body={"identity_id": ALICE}, headers={"Idempotency-Key": "k"})
    send("support", "big", {"identity_id": ALICE, "reason": "x" * 3000}, 413, "body_too_large")
    # A new identity (no cooldown), waited for: 200 with the final state.
    identity = stack.stand_in.create_identity({"email": "openapi@example.com"})
    waited = send("support", "wait", {"identity_id": identity["id"]}, 200, Prefer="wait=10")
    assert waited.json()["status"] == "sent", waited.text
    check(
        "GET", "/v1/recovery-emails/{id}", 200, path_parameters={"id": waited.json()["id"]}, headers=bearer("backend")
    )
    check(
        "GET",
        "/v1/recovery-emails/{id}",
        404,
        "not_found",
        path_parameters={"id": "11111111-2222-4333-8444-555555555555"},
        headers=bearer("backend"),
    )
    # The rate limit of one key (1/s, burst 8): quick requests run out of it.
    limited, statuses = None, []
    for n in range(30):
        operation = document[emails][post]
        case = operation.Case(
            body={"identity_id": ALICE}, headers={**bearer("backend"), "Idempotency-Key": f"fast-{n}"}
        )
        response = case.call(base_url=gateway.url)
        case.validate_response(response, checks=CHECK_FUNCTIONS)
        statuses.append(response.status_code)
        if response.status_code == 429 and response.json()["code"] == "rate_limited":
            limited = response
            break
    assert limited is not None and int(header(limited, "Retry-After")) >= 1, statuses

    # Kratos down at accept time: 503 with Retry-After, nothing stored.
    stack.stand_in.fault("/admin/identities*", 20, status=503, retry_after="7")
    unavailable = send("support", "down", {"identity_id": ALICE}, 503, "kratos_unavailable")
    assert header(unavailable, "Retry-After") == "7"
    # The audit log: a page, the NDJSON and CSV exports, the chain verified, then broken.
    check("GET", "/v1/audit-events", 200, headers=bearer("backend"), query={"limit": 2})
    check("GET", "/v1/audit-events", 400, "invalid_parameter", headers=bearer("backend"), query={"limit": 0})
    check("GET", "/v1/audit-events", 403, "insufficient_scope", headers=bearer("support"))
    event_schema = yaml.safe_load(DOCUMENT.read_bytes())["components"]["schemas"]["AuditEvent"]
    ndjson = check("GET", "/v1/audit-events", 200, headers={**bearer("backend"), "Accept": "application/x-ndjson"})
    assert header(ndjson, "Content-Type") == "application/x-ndjson"
    events = [json.loads(line) for line in ndjson.text.splitlines()]
    assert len(events) >= 6
    for event in events:
        jsonschema.validate(event, event_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    exported = check("GET", "/v1/audit-events", 200, headers={**bearer("backend"), "Accept": "text/csv"})
    assert header(exported, "Content-Type").startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    documented = document.raw_schema["paths"]["/v1/audit-events"]["get"]["responses"]["200"]["content"]["text/csv"]
    columns = re.search(r"Columns: ([^.]+)\.", " ".join(documented["schema"]["description"].split())).group(1)
    assert rows[0] == columns.split(", ")
    assert len(rows) == len(events) + 1
    verified = check("GET", "/v1/audit-events/verify", 200, headers=bearer("backend"))
    assert verified.json()["ok"] is True and verified.json()["events"] == len(events)
    # Operations without a key (readiness before the log is broken: the checkpointer's next round
    # finds the edit below and readiness turns 503).
    check("GET", "/health/alive", 200)
    check("GET", "/health/ready", 200)
    check("GET", "/openapi.yaml", 200)
    connection = sqlite3.connect(os.path.join(gateway.workdir, "gateway.sqlite"), timeout=10)
    try:
        connection.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        connection.execute("UPDATE audit_events SET outcome = 'edited' WHERE seq = 2")
        connection.commit()
    finally:
        connection.close()
    broken = check("GET", "/v1/audit-events/verify", 200, headers=bearer("backend"))
    assert broken.json()["ok"] is False and broken.json()["first_broken_seq"] == 2, broken.text

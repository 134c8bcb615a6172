"""Bad requests are refused with the field named, and leave nothing behind (no delivery, no audit event)."""

import json
import re

import pytest

from harness import ALICE, ALICE_EMAIL, REPO


def snapshot(gateway):
    return len(gateway.deliveries()), len(gateway.audit_ndjson())


def assert_problem(answer, status, code, field=None):
    assert answer.status == status, answer
    assert answer.headers["Content-Type"].startswith("application/problem+json"), answer.headers
    problem = answer.json()
    assert problem["code"] == code, problem
    assert problem["status"] == status
    if field is not None:
        assert problem.get("field") == field, problem
    return problem


BAD_BODIES = [
    # (body, status, code, field)
    ({}, 422, "invalid_request", "identity_id"),
    ({"identity_id": "not-a-uuid"}, 422, "invalid_request", "identity_id"),
    ({"identity_id": ALICE, "email": ALICE_EMAIL}, 422, "invalid_request", "email"),
    ({"identity_id": ALICE, "method": "sms"}, 422, "invalid_request", "method"),
    ({"identity_id": ALICE, "method": 1}, 422, "invalid_request", "method"),
    ({"identity_id": ALICE, "expires_in": "forever"}, 422, "invalid_request", "expires_in"),
    ({"identity_id": ALICE, "expires_in": "1000h"}, 422, "invalid_request", "expires_in"),
    # Under the documented minimum: it would not have the minute left that the sender needs.
    ({"identity_id": ALICE, "expires_in": "1m"}, 422, "invalid_request", "expires_in"),
    ({"identity_id": ALICE, "expires_in": "1m59s"}, 422, "invalid_request", "expires_in"),
    ({"identity_id": ALICE, "reason": "x" * 501}, 422, "invalid_request", "reason"),
    ({"identity_id": ALICE, "transient_payload": {"blob": "x" * 9000}}, 422, "invalid_request", "transient_payload"),
    ({"identity_id": ALICE, "transient_payload": [1, 2]}, 422, "invalid_request", "transient_payload"),
    ({"identity_id": ALICE, "colour": "blue"}, 422, "invalid_request", "colour"),
    ({"identity_id": ALICE, "template": "nope"}, 422, "invalid_request", "template"),
    ({"identity_id": ALICE, "recipient": "not an address"}, 422, "invalid_request", "recipient"),
    ({"email": "nobody"}, 422, "invalid_request", "email"),
    # Header injection and path traversal.
    (
        {"identity_id": ALICE, "recipient": "foobar@ory.sh\r\nBcc: evil@example.com"},
        422,
        "invalid_request",
        "recipient",
    ),
    ({"email": "foobar@ory.sh\r\nBcc: evil@example.com"}, 422, "invalid_request", "email"),
    ({"identity_id": ALICE, "reason": "ticket\r\nX-Injected: yes"}, 422, "invalid_request", "reason"),
    ({"identity_id": ALICE, "reason": "ticket\nsecond line"}, 422, "invalid_request", "reason"),
    ({"identity_id": ALICE, "template": "../x"}, 422, "invalid_request", "template"),
    ({"identity_id": ALICE, "template": "../../etc/passwd"}, 422, "invalid_request", "template"),
    ({"identity_id": ALICE, "locale": "../../etc"}, 422, "invalid_request", "locale"),
    ({"identity_id": ALICE, "locale": "en/../../x"}, 422, "invalid_request", "locale"),
    ({"identity_id": ALICE, "locale": "en\r\nX: y"}, 422, "invalid_request", "locale"),
]


def test_bad_bodies_name_the_field_and_store_nothing(gateway):
    before = snapshot(gateway)
    for number, (body, status, code, field) in enumerate(BAD_BODIES):
        answer = gateway.send(body, f"bad-{number}")
        problem = assert_problem(answer, status, code, field)
        # The refusal never echoes the offending value (it may be a header injection attempt).
        assert "evil@example.com" not in problem.get("detail", "")
    assert snapshot(gateway) == before


def test_malformed_json_and_non_object_bodies_are_400(gateway):
    before = snapshot(gateway)
    answer = gateway.request("POST", "/v1/recovery-emails", raw=b"{not json", headers={"Idempotency-Key": "raw-1"})
    assert_problem(answer, 400, "invalid_json")
    answer = gateway.request("POST", "/v1/recovery-emails", raw=b"[1,2,3]", headers={"Idempotency-Key": "raw-2"})
    assert_problem(answer, 400, "invalid_request", "body")
    assert snapshot(gateway) == before


def test_missing_or_invalid_idempotency_key_is_400(gateway):
    before = snapshot(gateway)
    answer = gateway.request("POST", "/v1/recovery-emails", {"identity_id": ALICE})
    assert_problem(answer, 400, "idempotency_key_missing", "Idempotency-Key")
    answer = gateway.send({"identity_id": ALICE}, "k" * 256)
    assert_problem(answer, 400, "idempotency_key_invalid", "Idempotency-Key")
    assert snapshot(gateway) == before


def test_body_over_max_body_bytes_is_413(gateway):
    before = snapshot(gateway)
    body = json.dumps({"identity_id": ALICE, "reason": "x" * 20000}).encode()
    answer = gateway.request("POST", "/v1/recovery-emails", raw=body, headers={"Idempotency-Key": "big"})
    assert_problem(answer, 413, "body_too_large")
    assert snapshot(gateway) == before


@pytest.mark.parametrize("size", [8 * 1024 - 64])
def test_payload_just_under_the_limit_is_accepted(gateway, size):
    answer = gateway.send({"identity_id": ALICE, "transient_payload": {"blob": "x" * size}}, "payload-ok")
    assert answer.status == 202, answer


def test_the_shortest_accepted_expires_in_is_sent_at_the_first_attempt(stack, gateway):
    # The minimum openapi.yaml documents is accepted, and sent on a healthy system: the API's bound
    # and the sender's rule (a minute left at the attempt) are one rule.
    spec = (REPO / "openapi.yaml").read_text()
    shortest = re.search(r"in Go duration syntax, from (\w+) to 168h", spec).group(1)
    assert shortest == "2m"
    answer = gateway.send({"identity_id": ALICE, "expires_in": shortest}, "shortest-expires-in")
    assert answer.status == 202, answer
    delivery = gateway.wait_status(answer.json()["id"], {"sent", "failed"})
    assert delivery["status"] == "sent", delivery
    assert delivery["attempts"] == 1, delivery
    # Kratos was asked for what was left of the two minutes: more than the sender's minute.
    [issued] = stack.stand_in.issued()
    assert re.fullmatch(r"1m([1-5]?[0-9])s|2m0s", issued["expires_in"]), issued
    assert len(stack.smtp.messages()) == 1

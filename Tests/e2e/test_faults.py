"""Faults at Kratos and at the SMTP server, injected into the real stand-in and the real aiosmtpd."""

import time

from harness import ALICE, free_port, message_key, wait_for
from test_validation import assert_problem, snapshot


def actions(gateway, delivery_id):
    return [e["action"] for e in gateway.audit_ndjson() if e.get("delivery_id") == delivery_id]


def test_kratos_failing_at_accept_is_503_with_retry_after_and_stores_nothing(stack, gateway):
    before = snapshot(gateway)
    stack.stand_in.fault("/admin/identities*", 20, status=503, retry_after="7")
    answer = gateway.send({"identity_id": ALICE}, "kratos-503")
    problem = assert_problem(answer, 503, "kratos_unavailable")
    assert int(answer.headers["Retry-After"]) >= 1, answer.headers
    assert "nothing was stored" in problem["detail"]
    assert snapshot(gateway) == before
    # The operator's log says why; the caller's answer does not.
    assert "Kratos refused or failed at accept" in gateway.logs() and "503" in gateway.logs()
    assert "503" not in problem["detail"]
    # The same key works once Kratos answers again: the refusal was not remembered.
    stack.stand_in.process.kill()
    stack.stand_in.process.wait()
    answer = gateway.send({"identity_id": ALICE}, "kratos-down")
    assert_problem(answer, 503, "kratos_unavailable")
    assert answer.headers["Retry-After"], answer.headers
    assert snapshot(gateway) == before
    assert stack.smtp.messages() == []


def test_kratos_5xx_at_send_is_retried_then_sent(stack, gateway):
    stack.stand_in.fault("/admin/recovery/link", 1, status=500)
    answer = gateway.send({"identity_id": ALICE}, "kratos-5xx-send")
    assert answer.status == 202, answer
    delivery = gateway.wait_status(answer.json()["id"], {"sent", "failed"})
    assert delivery["status"] == "sent", delivery
    assert delivery["attempts"] == 2, delivery
    assert actions(gateway, delivery["id"]) == ["email.requested", "email.attempt_failed", "email.sent"]
    assert len(stack.smtp.messages()) == 1
    assert len(stack.stand_in.issued()) == 1  # the failed call issued nothing


def test_smtp_4xx_is_retried_then_sent(bare):
    bare.start_stand_in()
    smtp = bare.start_smtp("--fail-first", "2")
    gateway = bare.start_gateway()
    answer = gateway.send({"identity_id": ALICE}, "smtp-4xx")
    assert answer.status == 202, answer
    delivery = gateway.wait_status(answer.json()["id"], {"sent", "failed"})
    assert delivery["status"] == "sent", delivery
    assert delivery["attempts"] == 3, delivery
    assert delivery["smtp_reply"].startswith("250"), delivery
    failed = [e for e in gateway.audit_ndjson() if e["action"] == "email.attempt_failed"]
    assert len(failed) == 2 and all("451" in e["details"]["error"] for e in failed), failed
    [message] = smtp.messages()
    assert message_key(message["Message-ID"]) == message_key(delivery["message_id"])


def test_smtp_5xx_fails_as_rejected_after_one_attempt(bare):
    bare.start_stand_in()
    smtp = bare.start_smtp("--fail-first", "100", "--fail-reply", "550 5.7.1 Recipient refused")
    gateway = bare.start_gateway()
    answer = gateway.send({"identity_id": ALICE}, "smtp-5xx", wait=10)
    assert answer.status == 200, answer
    delivery = answer.json()
    assert delivery["status"] == "failed" and delivery["failure"] == "rejected", delivery
    assert delivery["attempts"] == 1, delivery
    assert "550" in (delivery["last_error"] or {}).get("message", "") + (delivery.get("smtp_reply") or ""), delivery
    time.sleep(1.5)  # several backoffs: nothing more happens
    again = gateway.delivery(delivery["id"])
    assert again["attempts"] == 1 and again["status"] == "failed", again
    assert actions(gateway, delivery["id"]) == ["email.requested", "email.failed"]
    assert smtp.messages() == []
    assert len(bare.stand_in.issued()) == 1


def test_smtp_down_is_retried_until_it_is_back(bare):
    bare.start_stand_in()
    port = free_port()
    gateway = bare.start_gateway(smtp_url=f"smtp://127.0.0.1:{port}/?disable_starttls=true")
    answer = gateway.send({"identity_id": ALICE}, "smtp-down")
    assert answer.status == 202, answer
    delivery_id = answer.json()["id"]
    wait_for(lambda: gateway.delivery(delivery_id)["attempts"] >= 2, 15, what="two failed attempts")
    retrying = gateway.delivery(delivery_id)
    assert retrying["status"] in ("retrying", "sending", "queued"), retrying
    assert retrying["last_error"]["class"] == "transient", retrying
    smtp = bare.start_smtp(port=port)
    delivery = gateway.wait_status(delivery_id, {"sent", "failed"}, timeout=20)
    assert delivery["status"] == "sent", delivery
    assert smtp.received() == {message_key(delivery["message_id"]): 1}

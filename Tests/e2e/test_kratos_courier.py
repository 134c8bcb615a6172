"""Kratos's HTTP courier against the real binaries: the fixture ctx documents evaluated through the real
jsonnet evaluator (Kratos's default body and `function(ctx) ctx`) and posted as Kratos posts them
(kratos_courier.KratosCourierClient: 10 s timeout, 2xx is sent, anything else retried). Every type is
delivered, German identities in German; a repost sends nothing more; SMTP down, then a `kill -9` after
the 2xx, still end in one email; an expired message is never sent; a document the gateway can never
send is refused with a 4xx and leaves nothing behind."""

import copy
import email.utils
import re

import pytest

from harness import KEYS, free_port, wait_for
from kratos_courier import BODIES, PASSTHROUGH_BODY, KratosCourierClient, ctx_documents

ROUTE = "/v1/courier/kratos"
SECRET_KEYS = [
    "recovery_url",
    "recovery_code",
    "verification_url",
    "verification_code",
    "login_code",
    "registration_code",
]
# The types whose v26.2 ctx gives a German locale (the identity's, the registration traits', the flow's
# transient payload, or the end user's Accept-Language for the code types).
GERMAN = {
    "recovery_valid",
    "recovery_code_valid",
    "recovery_code_invalid",
    "verification_valid",
    "verification_code_valid",
    "login_code_valid",
    "registration_code_valid",
}
# Kratos's default body drops these codes: the gateway sends Kratos's own rendering (no language).
KRATOS_RENDERED_WITH_DEFAULT_BODY = {"login_code_valid", "registration_code_valid"}


def courier(gateway, body=PASSTHROUGH_BODY):
    return KratosCourierClient(gateway.url + ROUTE, "Bearer " + KEYS["kratos"][0], body=body)


def secrets(ctx):
    return [ctx["template_data"][key] for key in SECRET_KEYS if ctx["template_data"].get(key)]


def gateway_with_smtp_down(bare):
    """A gateway whose SMTP server is not up yet (retries without end); and the port to start it on."""
    bare.start_stand_in()
    port = free_port()
    gateway = bare.start_gateway(
        smtp_url=f"smtp://127.0.0.1:{port}/?disable_starttls=true", overrides={"delivery.max_attempts": 100}
    )
    return gateway, port


@pytest.mark.parametrize("body", sorted(BODIES))
def test_every_type_is_delivered_once_and_localized(stack, body):
    gateway = stack.start_gateway()
    client = courier(gateway, BODIES[body])
    documents = ctx_documents("v26.2")
    for template_type, ctx in documents.items():
        attempts = client.deliver(ctx)
        assert [a.status for a in attempts] == [202], (template_type, attempts)
    delivered = wait_for(
        lambda: (
            (d := gateway.deliveries(source="kratos_courier"))
            and len(d) == len(documents)
            and all(x["status"] == "sent" for x in d)
            and d
        ),
        60,
        interval=0.2,
        what="all sent",
    )
    by_message_id = {x["message_id"]: x["template_type"] for x in delivered}
    messages = stack.smtp.messages()
    assert len(messages) == len(documents)
    for message in messages:
        template_type = by_message_id[message["Message-ID"].strip()]
        ctx = documents[template_type]
        text = message.get_body(("plain",)).get_content()
        for secret in secrets(ctx):
            assert secret in text or secret.replace("&", "&amp;") in text, (template_type, secret)
        assert email.utils.parseaddr(message["To"])[1] == ctx["recipient"]
        language = message["Content-Language"]
        if body == "passthrough":
            assert language == ("de" if template_type in GERMAN else "en"), (template_type, language)
        elif template_type in KRATOS_RENDERED_WITH_DEFAULT_BODY:
            assert language is None, template_type
        else:
            # The flat document has no identity and no headers: the default locale.
            assert language == "en", (template_type, language)
    assert {x["template_type"] for x in delivered} == set(documents)
    requested = [e for e in gateway.audit_ndjson() if e["action"] == "email.requested"]
    assert len(requested) == len(documents)
    assert all(e["actor"] == "kratos" and e["details"]["source"] == "kratos_courier" for e in requested)


def test_the_same_message_posted_again_sends_one_email(stack):
    gateway = stack.start_gateway()
    client = courier(gateway)
    ctx = ctx_documents("v26.2")["recovery_code_valid"]
    first, again = client.dispatch(ctx), client.dispatch(ctx)
    assert (first.status, again.status) == (202, 200)
    wait_for(lambda: stack.smtp.count() == 1, 30, what="one email")
    # And from a v25.4 Kratos (no request headers), the same code: still the same message.
    assert client.dispatch(ctx_documents("v25.4")["recovery_code_valid"]).status == 200
    wait_for(lambda: gateway.deliveries()[0]["status"] == "sent", 30, what="sent")
    assert stack.smtp.count() == 1
    assert len(gateway.deliveries()) == 1


def test_smtp_down_answers_2xx_and_sends_when_it_returns(bare):
    gateway, port = gateway_with_smtp_down(bare)
    answer = courier(gateway).dispatch(ctx_documents("v26.2")["login_code_valid"])
    assert answer.status == 202, answer
    delivery = gateway.deliveries()[0]
    gateway.wait_status(delivery["id"], "retrying")
    smtp = bare.start_smtp(port=port)
    gateway.wait_status(delivery["id"], "sent", timeout=30)
    assert smtp.count() == 1


def test_a_gateway_killed_after_the_2xx_sends_after_restart(bare):
    gateway, port = gateway_with_smtp_down(bare)
    answer = courier(gateway).dispatch(ctx_documents("v26.2")["verification_code_valid"])
    assert answer.status == 202, answer
    gateway.kill9()
    smtp = bare.start_smtp(port=port)
    gateway.start()
    wait_for(lambda: gateway.deliveries()[0]["status"] == "sent", 30, interval=0.2, what="sent after restart")
    assert smtp.count() == 1
    assert "294615" in smtp.messages()[0].get_body(("plain",)).get_content()


def test_an_expired_message_is_never_sent(bare):
    gateway, port = gateway_with_smtp_down(bare)
    ctx = copy.deepcopy(ctx_documents("v26.2")["recovery_code_valid"])
    ctx["template_data"]["expires_in_minutes"] = 1
    assert courier(gateway).dispatch(ctx).status == 202
    delivery = gateway.wait_status(gateway.deliveries()[0]["id"], "failed", timeout=30)
    assert delivery["failure"] == "expired", delivery
    smtp = bare.start_smtp(port=port)
    gateway.stop()
    gateway.start()
    assert gateway.delivery(delivery["id"])["status"] == "failed"
    assert smtp.count() == 0


def bad_documents():
    documents = ctx_documents("v26.2")
    unknown = copy.deepcopy(documents["recovery_valid"])
    unknown["template_type"] = "verifiable_address_changed"
    sms = copy.deepcopy(documents["login_code_valid"])
    sms["message_type"] = "sms"
    no_recipient = copy.deepcopy(documents["recovery_valid"])
    del no_recipient["recipient"]
    expired = copy.deepcopy(documents["recovery_code_valid"])
    expired["template_data"]["expires_in_minutes"] = 0
    return {
        "kratos v1.0": (ctx_documents("v1.0")["recovery_valid"], "unsupported_kratos_version"),
        "unknown type": (unknown, "unknown_template_type"),
        "sms": (sms, "unsupported_message_type"),
        "no recipient": (no_recipient, "invalid_courier_message"),
        "expired": (expired, "invalid_courier_message"),
    }


def test_documents_that_can_never_be_sent_are_refused_and_leave_nothing(stack):
    gateway = stack.start_gateway()
    client = courier(gateway)
    for name, (ctx, code) in bad_documents().items():
        attempts = client.deliver(ctx, retries=2, poll_interval=0.1)
        assert [a.status for a in attempts] == [422, 422, 422], (name, attempts)
        answer = gateway.request("POST", ROUTE, ctx, key="kratos")
        assert answer.json()["code"] == code, (name, answer)
    unauthorized = KratosCourierClient(gateway.url + ROUTE, "Bearer " + KEYS["backend"][0]).dispatch(
        ctx_documents("v26.2")["recovery_valid"]
    )
    assert unauthorized.status == 403
    assert gateway.deliveries() == []
    assert gateway.audit_ndjson() == []
    assert stack.smtp.count() == 0


def courier_metric(gateway, template_type, result):
    text = gateway.request("GET", "/metrics", key=None).body.decode()
    for labels, value in re.findall(r"^recovery_gateway_courier_messages_total\{([^}]*)\} (\d+)$", text, re.M):
        if set(labels.split(",")) == {f'result="{result}"', f'template_type="{template_type}"'}:
            return int(value)
    return 0


def test_a_courier_key_cannot_send_a_link_to_another_origin(stack):
    gateway = stack.start_gateway()
    documents = ctx_documents("v26.2")
    evil = copy.deepcopy(documents["recovery_valid"])
    evil["template_data"]["recovery_url"] = "https://evil.example/self-service/recovery?flow=1&token=x"
    disguised = copy.deepcopy(documents["recovery_valid"])
    disguised["template_data"]["recovery_url"] = "https://auth.example.com@evil.example/self-service/recovery"
    verification = copy.deepcopy(documents["verification_valid"])
    verification["template_data"]["verification_url"] = "http://auth.example.com/self-service/verification"
    cases = [
        (evil, "template_data.recovery_url"),
        (disguised, "template_data.recovery_url"),
        (verification, "template_data.verification_url"),
    ]
    for ctx, field in cases:
        answer = gateway.request("POST", ROUTE, ctx, key="kratos")
        assert answer.status == 422 and answer.json()["field"] == field, answer
        assert answer.json()["code"] == "invalid_courier_message" and "evil" not in answer.body.decode()
    # Kratos's default body (the flat document): the same member, by its own name.
    flat = courier(gateway, BODIES["kratos-default"]).dispatch(evil)
    assert flat.status == 422, flat
    # What Kratos rendered is checked too when the gateway sends it (no template for the type).
    rendered = copy.deepcopy(documents["login_code_valid"])
    rendered["body"] += "\nOr sign in at https://evil.example/login\n"
    answer = courier(gateway, BODIES["kratos-default"]).dispatch(rendered)
    assert answer.status == 422, answer
    assert gateway.request("POST", ROUTE, rendered, key="kratos").status == 202  # its own template: body unused
    assert len(gateway.deliveries()) == 1
    assert courier_metric(gateway, "recovery_valid", "refused") == 3
    assert courier_metric(gateway, "verification_valid", "refused") == 1
    # Kratos's own links still go out.
    assert courier(gateway).dispatch(documents["recovery_valid"]).status == 202


def test_the_gateway_does_not_start_with_a_courier_key_and_no_link_origin(stack):
    gateway = stack.start_gateway(overrides={"courier.allowed_link_origins": None}, ready=False)
    assert gateway.process.wait(timeout=30) != 0
    assert "courier.allowed_link_origins" in gateway.logs()
    # Kratos's public URL gives the default origin.
    other = stack.start_gateway(
        overrides={"courier.allowed_link_origins": None, "kratos.public_url": "https://auth.example.com/"},
        name="public",
    )
    assert courier(other).dispatch(ctx_documents("v26.2")["recovery_valid"]).status == 202


def test_a_burst_of_courier_posts_to_one_recipient_is_refused_past_the_limit(stack):
    gateway = stack.start_gateway()
    client = courier(gateway)
    base = ctx_documents("v26.2")["recovery_code_valid"]
    statuses = []
    for n in range(14):
        ctx = copy.deepcopy(base)
        code = f"{100000 + n}"
        ctx["template_data"]["recovery_code"] = code
        ctx["body"] = ctx["body"].replace("731904", code)
        answer = gateway.request("POST", ROUTE, ctx, key="kratos")
        statuses.append(answer.status)
        if answer.status == 429:
            assert answer.json()["field"] == "recipient" and int(answer.headers["Retry-After"]) >= 1, answer
    # The default: 10 messages to one address an hour; the rest wait for Kratos's next tries.
    assert statuses == [202] * 10 + [429] * 4, statuses
    other = copy.deepcopy(base)
    other["recipient"] = other["template_data"]["to"] = "someone.else@example.com"
    assert client.dispatch(other).status == 202
    assert len(gateway.deliveries()) == 11
    assert courier_metric(gateway, "recovery_code_valid", "rate_limited") == 4


def test_courier_posts_take_the_keys_rate_limit(stack):
    gateway = stack.start_gateway(overrides={"delivery.rate_per_key": 0.01, "delivery.burst_per_key": 2})
    documents = ctx_documents("v26.2")
    answers = [
        gateway.request("POST", ROUTE, documents[t], key="kratos")
        for t in ("recovery_valid", "verification_valid", "recovery_code_valid")
    ]
    assert [a.status for a in answers] == [202, 202, 429], answers
    assert answers[2].json()["code"] == "rate_limited" and "field" not in answers[2].json()

"""Who may send what to whom: keys, scopes, identities and recipients, against the real stand-in."""

import shutil

from harness import ALICE, NO_RECOVERY, REPO, TWO_ADDRESSES
from test_validation import assert_problem, snapshot


def test_unknown_identity_is_404(gateway):
    before = snapshot(gateway)
    answer = gateway.send({"identity_id": "11111111-2222-4333-8444-555555555555"}, "unknown-id")
    assert_problem(answer, 404, "identity_not_found")
    answer = gateway.send({"email": "nobody@example.com"}, "unknown-email")
    assert_problem(answer, 404, "identity_not_found")
    assert snapshot(gateway) == before


def test_identity_without_recovery_address_is_422(gateway):
    before = snapshot(gateway)
    assert_problem(gateway.send({"identity_id": NO_RECOVERY}, "no-address"), 422, "no_recovery_address", "recipient")
    assert snapshot(gateway) == before


def test_foreign_recipient_needs_the_any_recipient_scope(stack, gateway):
    deliveries = len(gateway.deliveries())
    answer = gateway.send({"identity_id": ALICE, "recipient": "attacker@example.com"}, "foreign")
    assert_problem(answer, 403, "recipient_not_allowed", "recipient")
    assert len(gateway.deliveries()) == deliveries
    # The refusal is audited, with the address masked.
    refused = [e for e in gateway.audit_ndjson() if e["action"] == "email.refused"]
    assert [e["outcome"] for e in refused] == ["recipient_not_allowed"]

    answer = gateway.send(
        {"identity_id": ALICE, "recipient": "attacker@example.com"}, "foreign", key="support", wait=10
    )
    assert answer.status == 200, answer
    assert answer.json()["status"] == "sent"
    [message] = stack.smtp.messages()
    assert message["To"].addresses[0].addr_spec == "attacker@example.com"

    # Without the scope, but one of the identity's own addresses: allowed.
    answer = gateway.send({"identity_id": TWO_ADDRESSES, "recipient": "Ada.Lovelace@example.org"}, "own", wait=10)
    assert answer.status == 200 and answer.json()["status"] == "sent", answer
    assert stack.smtp.messages()[-1]["To"].addresses[0].addr_spec.lower() == "ada.lovelace@example.org"


def test_identity_without_address_with_any_recipient_scope_and_recipient_is_sent(stack, gateway):
    answer = gateway.send({"identity_id": NO_RECOVERY, "recipient": "help@example.com"}, "na", key="support", wait=10)
    assert answer.status == 200 and answer.json()["status"] == "sent", answer
    events = [e for e in gateway.audit_ndjson() if e["action"] == "email.requested"]
    assert events[-1]["details"].get("recipient_override") == "true", events[-1]


def test_wrong_key_is_401_and_wrong_scope_is_403(gateway):
    before = snapshot(gateway)
    assert_problem(gateway.send({"identity_id": ALICE}, "k1", key="rg_not_a_key"), 401, "unauthorized")
    assert_problem(gateway.send({"identity_id": ALICE}, "k2", key=None), 401, "unauthorized")
    assert_problem(gateway.send({"identity_id": ALICE}, "k3", key="reader"), 403, "insufficient_scope")
    assert_problem(gateway.request("GET", "/v1/audit-events", key="support"), 403, "insufficient_scope")
    assert_problem(gateway.request("GET", "/v1/recovery-emails", key="rg_not_a_key"), 401, "unauthorized")
    assert snapshot(gateway) == before


def test_markup_in_traits_and_payload_is_escaped_in_html_and_kept_out_of_headers(stack, tmp_path):
    # The shipped templates print no caller value except To; a test template prints a trait and the payload.
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    html_file = templates / "recovery" / "en" / "body.html.mustache"
    html_file.write_text(
        html_file.read_text().replace(
            "</body>", "<p id=probe>{{Identity.traits.name}}|{{TransientPayload.note}}</p>\n</body>"
        )
    )
    text_file = templates / "recovery" / "en" / "body.txt.mustache"
    text_file.write_text(text_file.read_text() + "\nprobe: {{Identity.traits.name}}|{{TransientPayload.note}}\n")
    gateway = stack.start_gateway(templates_dir=templates)
    evil_name = '<script>alert("name")</script>'
    evil_note = "<img src=x onerror=alert(1)>&"
    identity = stack.stand_in.create_identity({"email": "markup@example.com", "name": evil_name})
    answer = gateway.send(
        {"identity_id": identity["id"], "transient_payload": {"note": evil_note}, "reason": "<b>ticket</b>"},
        "markup",
        wait=10,
    )
    assert answer.status == 200 and answer.json()["status"] == "sent", answer
    [message] = stack.smtp.messages()
    html_part = message.get_body(("html",)).get_content()
    text_part = message.get_body(("plain",)).get_content()
    assert "&lt;script&gt;alert(" in html_part and "&lt;/script&gt;" in html_part
    assert "<script" not in html_part
    assert "<img" not in html_part and "&lt;img src=x onerror=alert(1)&gt;" in html_part
    # The text part is plain text: the values as they are.
    assert f"probe: {evil_name}|{evil_note}" in text_part
    for name, value in message.items():
        assert "<script>" not in value and "\r" not in value and "\n" not in value.strip(), (name, value)
    assert message["To"].addresses[0].addr_spec == "markup@example.com"

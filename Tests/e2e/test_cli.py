"""`recovery-gateway send | status | list` against a real running gateway (stand-in + aiosmtpd behind
it): the happy paths, the gateway's refusals mapped to exit codes 2 and 1, and the API key kept out
of argv and output."""

import json
import os
import re
import shutil
import subprocess

from harness import ALICE, GATEWAY_BIN, KEYS, NO_RECOVERY, REPO, TWO_ADDRESSES

BACKEND_KEY = KEYS["backend"][0]


def cli(gateway, *args, key=BACKEND_KEY, env=None, timeout=60):
    """The binary with the server and key taken from the environment (nothing on argv)."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RECOVERY_GATEWAY_SERVER": gateway.url}
    if key is not None:
        environment["RECOVERY_GATEWAY_API_KEY"] = key
    environment.update(env or {})
    result = subprocess.run([str(GATEWAY_BIN), *args], capture_output=True, timeout=timeout, env=environment)
    result.out = result.stdout.decode()
    result.err = result.stderr.decode()
    return result


def one_line(result):
    return result.err.endswith("\n") and result.err.count("\n") == 1


def fields(text):
    """`label  value` lines → {label: value}."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^(\S+(?: \S+)?)\s{2,}(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_send_wait_shows_the_final_state_and_a_retry_is_replayed(stack, gateway):
    result = cli(gateway, "send", "--identity", ALICE, "--reason", "ticket 4711", "--wait", "--locale", "de")
    assert result.returncode == 0, result.err
    shown = fields(result.out)
    assert shown["status"] == "sent", result.out
    assert shown["identity"] == ALICE
    assert shown["recipient"] == "f***@o***.sh"
    assert shown["template"] == "recovery (de)"
    key = shown["idempotency key"]
    assert re.fullmatch(r"cli-[0-9a-f-]{36}", key), key
    [message] = stack.smtp.messages()
    assert message["Message-ID"].strip() == shown["message id"]

    # The same key again: the stored answer, nothing sent twice.
    again = cli(
        gateway, "send", "--identity", ALICE, "--reason", "ticket 4711", "--locale", "de", "--idempotency-key", key
    )
    assert again.returncode == 0, again.err
    assert fields(again.out)["id"] == shown["id"]
    assert "replayed" in fields(again.out)
    assert stack.smtp.count() == 1

    # The audit log has the reason and the actor of the key.
    requested = [e for e in gateway.audit_ndjson() if e["action"] == "email.requested"]
    assert [(e["actor"], e["details"].get("reason")) for e in requested] == [("backend", "ticket 4711")]


def test_send_passes_the_transient_payload_to_the_templates(stack, tmp_path):
    # The shipped templates do not print the payload: a copy whose text part does.
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    text_file = templates / "recovery" / "en" / "body.txt.mustache"
    text_file.write_text(text_file.read_text() + "\nticket: {{TransientPayload.ticket}}\n")
    gateway = stack.start_gateway(templates_dir=templates)
    result = cli(gateway, "send", "--identity", ALICE, "--transient-payload", '{"ticket": 4711}', "--wait")
    assert result.returncode == 0, result.err
    assert fields(result.out)["status"] == "sent", result.out
    [message] = stack.smtp.messages()
    assert "ticket: 4711" in message.get_body(("plain",)).get_content()


def test_send_without_wait_then_status_and_list(stack, gateway, tmp_path):
    key_file = tmp_path / "api-key"
    key_file.write_text(BACKEND_KEY + "\n")
    result = subprocess.run(
        [
            str(GATEWAY_BIN),
            "send",
            "--email",
            "ada.lovelace@example.org",
            "--method",
            "code",
            "--json",
            "--idempotency-key",
            "cli-json-1",
            "--server",
            gateway.url,
            "--api-key-file",
            str(key_file),
        ],
        capture_output=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "")},
    )
    assert result.returncode == 0, result.stderr
    accepted = json.loads(result.stdout)
    assert accepted["status"] in ("queued", "sending", "sent") and accepted["method"] == "code", accepted
    assert accepted["identity_id"] == TWO_ADDRESSES
    delivery_id = accepted["id"]
    gateway.wait_status(delivery_id, "sent")

    status = cli(gateway, "status", delivery_id)
    assert status.returncode == 0, status.err
    shown = fields(status.out)
    assert shown["status"] == "sent" and shown["method"] == "code" and shown["attempts"] == "1", status.out
    assert shown["smtp reply"].startswith("250"), status.out
    raw = cli(gateway, "status", delivery_id, "--json")
    assert json.loads(raw.out) == gateway.delivery(delivery_id)

    second = cli(gateway, "send", "--identity", ALICE, "--wait", "10")
    assert second.returncode == 0, second.err
    # In a pipe: tab-separated, with a header; newest first.
    listed = cli(gateway, "list")
    assert listed.returncode == 0, listed.err
    rows = [line.split("\t") for line in listed.out.splitlines()]
    assert rows[0] == ["ID", "STATUS", "ATTEMPTS", "CREATED", "RECIPIENT", "METHOD", "TEMPLATE", "FAILURE"]
    assert [row[0] for row in rows[1:]] == [fields(second.out)["id"], delivery_id]
    assert rows[2][1] == "sent" and rows[2][5] == "code" and rows[2][7] == "-"

    # Filters and pages as in the API.
    only = cli(gateway, "list", "--identity", TWO_ADDRESSES, "--status", "sent")
    assert [line.split("\t")[0] for line in only.out.splitlines()[1:]] == [delivery_id]
    first_page = cli(gateway, "list", "--limit", "1")
    assert len(first_page.out.splitlines()) == 2
    cursor = re.search(r"--cursor (\S+)", first_page.err).group(1)
    next_page = cli(gateway, "list", "--limit", "1", "--cursor", cursor, "--json")
    page = json.loads(next_page.out)
    assert [item["id"] for item in page["items"]] == [delivery_id] and page["next_cursor"] is None
    since = cli(gateway, "list", "--since", "2999-01-01T00:00:00+02:00")
    assert since.returncode == 0, since.err
    assert since.out.splitlines()[1:] == []

    # Nothing printed anywhere holds the key.
    for output in (result.stdout.decode(), result.stderr.decode(), status.out, listed.out, first_page.err):
        assert BACKEND_KEY not in output


def test_refused_fields_exit_2_and_failed_operations_exit_1(stack, gateway):
    before = len(gateway.deliveries())
    # The gateway refuses a field of the request: the user's input, exit 2, the field named.
    bad_locale = cli(gateway, "send", "--identity", ALICE, "--locale", "not a tag!")
    assert bad_locale.returncode == 2, bad_locale.err
    assert bad_locale.err.startswith("recovery-gateway: the gateway refused: HTTP 422 invalid_request (locale): ")
    assert one_line(bad_locale)
    # A word the command line knows itself is checked before any request, with argument-parser's message.
    bad_status = cli(gateway, "list", "--status", "lost")
    assert bad_status.returncode == 2 and "invalid for '--status <status>'" in bad_status.err, bad_status.err
    assert "'queued', 'sending', 'retrying', 'sent' or 'failed'" in bad_status.err and one_line(bad_status)

    # The operation fails: exit 1 with the problem's code.
    unknown = cli(gateway, "send", "--identity", "11111111-2222-4333-8444-555555555555")
    assert unknown.returncode == 1 and "HTTP 404 identity_not_found" in unknown.err and one_line(unknown), unknown.err
    no_address = cli(gateway, "send", "--identity", NO_RECOVERY)
    assert no_address.returncode == 1 and "no_recovery_address (recipient)" in no_address.err, no_address.err
    wrong_key = cli(gateway, "list", key="rg_wrong_key_Secret_123")
    assert wrong_key.returncode == 1 and "HTTP 401 unauthorized" in wrong_key.err, wrong_key.err
    assert "rg_wrong_key_Secret_123" not in wrong_key.err
    reader = cli(gateway, "send", "--identity", ALICE, key=KEYS["reader"][0])
    assert reader.returncode == 1 and "HTTP 403 insufficient_scope" in reader.err, reader.err
    missing = cli(gateway, "status", "11111111-2222-4333-8444-555555555555")
    assert missing.returncode == 1 and "HTTP 404" in missing.err and one_line(missing), missing.err
    assert len(gateway.deliveries()) == before


def test_kratos_down_exits_1_with_the_key_to_retry_with(stack, gateway):
    stack.stand_in.fault("/admin/identities*", 10, status=503)
    result = cli(gateway, "send", "--identity", ALICE, "--idempotency-key", "kratos-down-1")
    assert result.returncode == 1, result.err
    assert "HTTP 503 kratos_unavailable" in result.err, result.err
    assert "retry with --idempotency-key kratos-down-1" in result.err
    assert one_line(result)

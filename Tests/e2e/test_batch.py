"""`recovery-gateway batch send --dry-run` against a real running gateway (stand-in + aiosmtpd behind
it): every line of the file checked as a single send would be, bad lines reported by their line
number, and nothing stored, sent or asked of Kratos beyond the lookups."""

import json
import time

from harness import ALICE, NO_RECOVERY, TWO_ADDRESSES
from test_cli import cli, fields, one_line

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_dry_run_over_a_file_reports_every_line_and_stores_nothing(stack, tmp_path):
    gateway = stack.start_gateway(overrides={"delivery.cooldown": "1h"})
    sent = gateway.send({"identity_id": ALICE, "reason": "earlier"}, "k-earlier", wait=10)
    assert sent.json()["status"] == "sent", sent
    deliveries, events, issued = len(gateway.deliveries()), len(gateway.audit_ndjson()), len(stack.stand_in.issued())

    ids = tmp_path / "ids.ndjson"
    ids.write_text("\n".join([
        json.dumps(TWO_ADDRESSES),                                          # 1 would_send
        json.dumps({"email": "ada.lovelace@example.org"}),                  # 2 would_send (login email)
        "",                                                                 # 3 blank: skipped
        json.dumps(ALICE),                                                  # 4 cooldown (sent above)
        json.dumps(NO_RECOVERY),                                            # 5 no_recovery_address
        json.dumps(UNKNOWN),                                                # 6 not_found
        "{not json",                                                        # 7 invalid
        json.dumps({"identity_id": TWO_ADDRESSES, "colour": "red"}),        # 8 invalid (unknown field)
        json.dumps({"identity_id": TWO_ADDRESSES, "recipient": "eve@evil.example"}),  # 9 recipient_not_allowed
        json.dumps("neither-id-nor-email"),                                 # 10 invalid
    ]) + "\n")
    started = time.monotonic()
    result = cli(gateway, "batch", "send", "--file", str(ids), "--reason", "breach 2026-11", "--dry-run")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.err
    shown = fields(result.out)
    assert (shown["items"], shown["would_send"], shown["cooldown"], shown["no_recovery_address"],
            shown["not_found"], shown["invalid"], shown["recipient_not_allowed"]) == ("9", "2", "1", "1", "1", "3", "1"), result.out
    assert "line 4: cooldown" in result.out
    assert "line 7: invalid (line: is not JSON)" in result.out
    assert "line 8: invalid (colour: is not a field of an item)" in result.out
    assert "line 10: invalid" in result.out
    assert "line 1:" not in result.out and "line 3:" not in result.out
    assert "eve@evil.example" not in result.out
    assert elapsed < 30

    # Nothing stored, no audit event, no link asked of Kratos, no email.
    assert len(gateway.deliveries()) == deliveries
    assert len(gateway.audit_ndjson()) == events
    assert len(stack.stand_in.issued()) == issued
    assert stack.smtp.count() == 1


def test_a_plain_and_a_csv_file_and_sending_not_yet(stack, gateway, tmp_path):
    txt = tmp_path / "ids.txt"
    txt.write_text(f"{TWO_ADDRESSES}\nfoobar@ory.sh\n\nnot an id\n")
    result = cli(gateway, "batch", "send", "--file", str(txt), "--reason", "migration", "--dry-run", "--json")
    assert result.returncode == 0, result.err
    report = json.loads(result.out)
    assert report["dry_run"] is True
    assert [(i["position"], i["outcome"]) for i in report["items"]] == [(1, "would_send"), (2, "would_send"), (4, "invalid")]
    assert report["items"][1]["identity_id"] == ALICE and report["items"][1]["recipient"] == "f***@o***.sh"

    csv = tmp_path / "ids.csv"
    csv.write_text(f"identity_id,name\n{ALICE},Alice\n{UNKNOWN},Nobody\n")
    result = cli(gateway, "batch", "send", "--file", str(csv), "--reason", "migration", "--dry-run")
    assert result.returncode == 0, result.err
    assert (fields(result.out)["would_send"], fields(result.out)["not_found"]) == ("1", "1"), result.out
    assert "line 3: not_found" in result.out

    # Without --dry-run: not available yet, one line, exit 2, nothing asked of the gateway.
    result = cli(gateway, "batch", "send", "--file", str(csv), "--reason", "migration")
    assert result.returncode == 2 and one_line(result), result.err
    assert "not available yet" in result.err
    # The API says the same, naming the field.
    answer = gateway.request("POST", "/v1/recovery-batches", {"items": [ALICE], "reason": "x"})
    assert answer.status == 422 and answer.json()["field"] == "dry_run", answer
    # A reader may not ask.
    result = cli(gateway, "batch", "send", "--file", str(csv), "--reason", "migration", "--dry-run",
                 key="rg_reader_e2e_9e8d7c6b5a4f3e2d1c0b")
    assert result.returncode == 1, result.err
    assert len(gateway.deliveries()) == 0 and stack.smtp.count() == 0

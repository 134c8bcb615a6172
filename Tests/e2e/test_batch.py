"""`recovery-gateway batch send --dry-run` against a real running gateway (stand-in + aiosmtpd behind
it): every line of the file checked as a single send would be, bad lines reported by their line
number, and nothing stored (but its audit event), sent or asked of Kratos beyond the lookups."""

import collections
import concurrent.futures
import datetime
import glob
import http.client
import json
import os
import pty
import re
import subprocess
import time
import urllib.parse

from harness import ALICE, ALICE_EMAIL, GATEWAY_BIN, KEYS, NO_RECOVERY, TWO_ADDRESSES, wait_for
from test_cli import cli, fields, one_line

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_dry_run_over_a_file_reports_every_line_and_stores_nothing(stack, tmp_path):
    gateway = stack.start_gateway(overrides={"delivery.cooldown": "1h"})
    sent = gateway.send({"identity_id": ALICE, "reason": "earlier"}, "k-earlier", wait=10)
    assert sent.json()["status"] == "sent", sent
    deliveries, events, issued = len(gateway.deliveries()), len(gateway.audit_ndjson()), len(stack.stand_in.issued())

    ids = tmp_path / "ids.ndjson"
    ids.write_text(
        "\n".join(
            [
                json.dumps(TWO_ADDRESSES),  # 1 would_send
                json.dumps({"email": "ada.lovelace@example.org"}),  # 2 would_send (login email)
                "",  # 3 blank: skipped
                json.dumps(ALICE),  # 4 cooldown (sent above)
                json.dumps(NO_RECOVERY),  # 5 no_recovery_address
                json.dumps(UNKNOWN),  # 6 not_found
                "{not json",  # 7 invalid
                json.dumps({"identity_id": TWO_ADDRESSES, "colour": "red"}),  # 8 invalid (unknown field)
                json.dumps({"identity_id": TWO_ADDRESSES, "recipient": "eve@evil.example"}),  # 9 recipient_not_allowed
                json.dumps("neither-id-nor-email"),  # 10 invalid
            ]
        )
        + "\n"
    )
    started = time.monotonic()
    result = cli(gateway, "batch", "send", "--file", str(ids), "--reason", "breach 2026-11", "--dry-run")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.err
    shown = fields(result.out)
    assert (
        shown["items"],
        shown["would_send"],
        shown["cooldown"],
        shown["no_recovery_address"],
        shown["not_found"],
        shown["invalid"],
        shown["recipient_not_allowed"],
    ) == ("9", "2", "1", "1", "1", "3", "1"), result.out
    assert "line 4: cooldown" in result.out
    assert "line 7: invalid (line: is not JSON)" in result.out
    assert "line 8: invalid (colour: is not a field of an item)" in result.out
    assert "line 10: invalid" in result.out
    assert "line 1:" not in result.out and "line 3:" not in result.out
    assert "eve@evil.example" not in result.out
    assert elapsed < 30

    # Nothing stored but the dry run's own audit event, no link asked of Kratos, no email.
    assert len(gateway.deliveries()) == deliveries
    audited = gateway.audit_ndjson()[events:]
    assert [(e["action"], e["actor"], e["details"]["items"], e["details"]["would_send"]) for e in audited] == [
        ("batch.dry_run", "backend", "9", "2")
    ], audited
    assert len(stack.stand_in.issued()) == issued
    assert stack.smtp.count() == 1


def test_a_plain_and_a_csv_file_and_what_sending_needs(stack, gateway, tmp_path):
    txt = tmp_path / "ids.txt"
    txt.write_text(f"{TWO_ADDRESSES}\nfoobar@ory.sh\n\nnot an id\n")
    result = cli(gateway, "batch", "send", "--file", str(txt), "--reason", "migration", "--dry-run", "--json")
    assert result.returncode == 0, result.err
    report = json.loads(result.out)
    assert report["dry_run"] is True
    assert [(i["position"], i["outcome"]) for i in report["items"]] == [
        (1, "would_send"),
        (2, "would_send"),
        (4, "invalid"),
    ]
    assert report["items"][1]["identity_id"] == ALICE and report["items"][1]["recipient"] == "f***@o***.sh"

    csv = tmp_path / "ids.csv"
    csv.write_text(f"identity_id,name\n{ALICE},Alice\n{UNKNOWN},Nobody\n")
    result = cli(gateway, "batch", "send", "--file", str(csv), "--reason", "migration", "--dry-run")
    assert result.returncode == 0, result.err
    assert (fields(result.out)["would_send"], fields(result.out)["not_found"]) == ("1", "1"), result.out
    assert "line 3: not_found" in result.out

    # Sending a batch needs an Idempotency-Key, as every send does; nothing is stored without one.
    answer = gateway.request("POST", "/v1/recovery-batches", {"items": [ALICE], "reason": "x"})
    assert answer.status == 400 and answer.json()["field"] == "Idempotency-Key", answer
    answer = gateway.request(
        "POST",
        "/v1/recovery-batches",
        {"items": [ALICE], "reason": "x", "rate": 0},
        headers={"Idempotency-Key": "b-rate"},
    )
    assert answer.status == 422 and answer.json()["field"] == "rate", answer
    # A reader may not ask.
    result = cli(
        gateway,
        "batch",
        "send",
        "--file",
        str(csv),
        "--reason",
        "migration",
        "--dry-run",
        key="rg_reader_e2e_9e8d7c6b5a4f3e2d1c0b",
    )
    assert result.returncode == 1, result.err
    assert len(gateway.deliveries()) == 0 and stack.smtp.count() == 0


# --- sending ---------------------------------------------------------------------------------------


def make_identities(stand_in, count, prefix):
    """`count` new identities at the stand-in, each with its own email recovery address: their ids."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        made = pool.map(lambda n: stand_in.create_identity({"email": f"{prefix}-{n}@example.org"})["id"], range(count))
        return list(made)


def post_batch(gateway, lines, key, api_key="backend", **query):
    """An NDJSON batch (`lines` already JSON) with the common fields as query parameters, under the
    Idempotency-Key `key`, sent with the API key `api_key`."""
    query = {"reason": "breach 2026-11", **query}
    path = "/v1/recovery-batches?" + "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in query.items())
    body = ("\n".join(lines) + "\n").encode()
    return gateway.request(
        "POST", path, raw=body, key=api_key, headers={"Content-Type": "application/x-ndjson", "Idempotency-Key": key}
    )


def batch_status(gateway, batch_id):
    answer = gateway.request("GET", f"/v1/recovery-batches/{batch_id}")
    assert answer.status == 200, answer
    return answer.json()


def wait_batch(gateway, batch_id, statuses, timeout):
    return wait_for(
        lambda: (b := batch_status(gateway, batch_id))["status"] in statuses and b,
        timeout,
        interval=0.25,
        what=f"batch in {statuses}",
    )


def arrivals(smtp):
    """Arrival time of every message, in order (its envelope file's modification time)."""
    return sorted(os.path.getmtime(p) for p in glob.glob(os.path.join(smtp.maildir, "*.json")))


def recipients(smtp):
    return collections.Counter(m["To"].strip() for m in smtp.messages())


def accepted_times(gateway, identities):
    """When the deliveries to `identities` were accepted (created_at, in ms), in seconds, in order."""
    identities = set(identities)
    return sorted(
        datetime.datetime.fromisoformat(d["created_at"].replace("Z", "+00:00")).timestamp()
        for d in gateway.deliveries()
        if d.get("identity_id") in identities
    )


def most_ahead_of(times, rate):
    """The most items any stretch [t_i, t_j] of `times` holds beyond `rate` per second of its length: a
    batch never sent faster than its rate keeps this within its token bucket (a second's worth)."""
    worst, lowest = 0.0, float("inf")
    for index, at in enumerate(times):
        lowest = min(lowest, index - rate * at)
        worst = max(worst, index - rate * at - lowest + 1)
    return worst


def test_a_batch_is_sent_at_its_rate_fair_to_a_single_send_and_replayed(stack):
    """Behaviour, not the machine's capacity: a batch is never accepted faster than its rate (at any
    rate), keeps its rate where the debug build has room for it even with two cores' worth of other load
    beside it (20 emails/s), and a single send waits behind at most half a second of the batch's pace."""
    gateway = stack.start_gateway()
    slow_ids = make_identities(stack.stand_in, 100, "paced-slow")
    slow = post_batch(gateway, [json.dumps(i) for i in slow_ids], "batch-paced-slow", rate=20)
    assert slow.status == 202, slow
    wait_batch(gateway, slow.json()["id"], {"done"}, 120)
    wait_for(lambda: stack.smtp.count() == 100, 60, what="the slow batch's emails")
    times = arrivals(stack.smtp)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 18 <= rate <= 22, f"{rate:.1f} emails/s for a batch at 20/s"
    ahead = most_ahead_of(accepted_times(gateway, slow_ids), 20)
    assert ahead <= 2 * 20, f"{ahead:.0f} items ahead of a batch's rate of 20/s"

    ids = make_identities(stack.stand_in, 2000, "paced")
    answer = post_batch(gateway, [json.dumps(i) for i in ids], "batch-paced", rate=200)
    assert answer.status == 202, answer
    batch = answer.json()
    assert batch["total"] == 2000 and batch["rate"] == 200 and batch["status"] in ("running", "done"), batch
    assert answer.headers["Location"] == f"/v1/recovery-batches/{batch['id']}"

    # A support agent's single send while the batch is going out: the runner keeps at most half a
    # second of the batch's pace queued (rate/2, at least delivery.workers: 8 in the tests), so at most
    # that many of the batch's emails, and the workers' sends in flight, go out before it.
    wait_for(lambda: stack.smtp.count() >= 100 + 300, 60, what="the batch under way")
    before = stack.smtp.count()
    single = gateway.send({"identity_id": ALICE, "reason": "ticket 4711"}, "single-during-batch")
    assert single.status == 202, single
    wait_for(lambda: gateway.delivery(single.json()["id"])["status"] == "sent", 60, what="the single send")
    order = [ALICE_EMAIL in m["To"] for m in stack.smtp.messages()]
    behind = order.index(True) - before
    assert behind <= 200 // 2 + 3 * 8, f"the single send went out after {behind} of the batch's emails"

    done = wait_batch(gateway, batch["id"], {"done"}, 300)
    assert done["counts"]["accepted"] == 2000 and done["counts"]["pending"] == 0, done
    wait_for(lambda: stack.smtp.count() == 2101, 60, what="every email")
    ahead_fast = most_ahead_of(accepted_times(gateway, ids), 200)
    print(
        f"\n[pacing] 20/s batch: {rate:.1f} emails/s, {ahead:.0f} items ahead at most; 200/s batch: "
        f"{ahead_fast:.0f} items ahead at most; the single send after {behind} of the batch's emails"
    )
    assert ahead_fast <= 2 * 200, f"{ahead_fast:.0f} items ahead of a batch's rate of 200/s"
    sent_to = recipients(stack.smtp)
    assert all(count == 1 for count in sent_to.values()) and len(sent_to) == 2101

    # The same key and fields again: the same batch, nothing new.
    again = post_batch(gateway, [json.dumps(i) for i in ids], "batch-paced", rate=200)
    assert again.status == 202 and again.headers["Idempotent-Replayed"] == "true", again
    assert again.json()["id"] == batch["id"]
    # Other fields under the key: refused.
    other = post_batch(gateway, [json.dumps(i) for i in ids[:3]], "batch-paced", rate=100)
    assert other.status == 422 and other.json()["code"] == "idempotency_key_reused", other
    time.sleep(1.5)
    assert stack.smtp.count() == 2101

    # Audit: one batch.created per batch with the counts; each item's event names the batch.
    events = gateway.audit_ndjson()
    created = [e for e in events if e["action"] == "batch.created"]
    assert [e["details"]["items"] for e in created] == ["100", "2000"], created
    assert {e["actor"] for e in created} == {"backend"}
    requested = [e for e in events if e["action"] == "email.requested" and e["details"].get("batch_id") == batch["id"]]
    assert len(requested) == 2000
    # The report as CSV: a header and one line per item.
    report = gateway.request("GET", f"/v1/recovery-batches/{batch['id']}/items", headers={"Accept": "text/csv"})
    assert report.status == 200 and report.headers["Content-Type"].startswith("text/csv"), report
    lines = report.body.decode().splitlines()
    assert lines[0] == "position,outcome,identity_id,recipient,delivery_id,reason" and len(lines) == 2001
    metrics = gateway.request("GET", "/metrics", key=None).body.decode()
    assert 'recovery_gateway_batch_items_total{outcome="accepted"} 2100' in metrics


def test_bad_lines_are_reported_by_line_number_and_the_rest_is_sent(stack):
    gateway = stack.start_gateway(overrides={"delivery.cooldown": "1h"})
    lines = [
        json.dumps(ALICE),  # 1 accepted
        "{not json",  # 2 invalid
        json.dumps({"identity_id": TWO_ADDRESSES, "colour": "red"}),  # 3 invalid: unknown field
        json.dumps("neither-id-nor-email"),  # 4 invalid
        json.dumps(UNKNOWN),  # 5 not_found
        json.dumps(NO_RECOVERY),  # 6 no_recovery_address
        json.dumps({"identity_id": TWO_ADDRESSES, "recipient": "eve@evil.example"}),  # 7 recipient_not_allowed
        json.dumps({"email": "foobar@ory.sh"}),  # 8 ALICE again: 1 or 8 is cooldown
        json.dumps(TWO_ADDRESSES),  # 9 accepted
    ]
    answer = post_batch(gateway, lines, "batch-bad-lines", rate=50)
    assert answer.status == 202, answer
    batch = answer.json()
    assert batch["total"] == 9 and batch["counts"]["invalid"] == 3, batch
    done = wait_batch(gateway, batch["id"], {"done"}, 30)
    assert {k: v for k, v in done["counts"].items() if v} == {
        "accepted": 2,
        "invalid": 3,
        "not_found": 1,
        "no_recovery_address": 1,
        "recipient_not_allowed": 1,
        "cooldown": 1,
    }, done
    page = gateway.request("GET", f"/v1/recovery-batches/{batch['id']}/items?outcome=invalid").json()
    assert [(i["position"], i["reason"]) for i in page["items"]] == [
        (2, "line: is not JSON"),
        (3, "colour: is not a field of an item"),
        (4, "item: must be an identity id (a UUID) or a login email"),
    ], page
    items = gateway.request("GET", f"/v1/recovery-batches/{batch['id']}/items?limit=5").json()
    assert [i["position"] for i in items["items"]] == [1, 2, 3, 4, 5] and items["next_cursor"]
    rest = gateway.request("GET", f"/v1/recovery-batches/{batch['id']}/items?cursor={items['next_cursor']}").json()
    assert [i["position"] for i in rest["items"]] == [6, 7, 8, 9] and rest["next_cursor"] is None
    # Items of one tick are accepted concurrently: whichever of lines 1 and 8 came first was sent.
    assert {items["items"][0]["outcome"], rest["items"][2]["outcome"]} == {"accepted", "cooldown"}
    wait_for(lambda: stack.smtp.count() == 2, 20, what="two emails")
    assert "eve@evil.example" not in json.dumps(rest)


def test_pause_resume_and_cancel(stack):
    gateway = stack.start_gateway()
    ids = make_identities(stack.stand_in, 300, "cancel")
    answer = post_batch(gateway, [json.dumps(i) for i in ids], "batch-cancel", rate=20)
    assert answer.status == 202, answer
    batch_id = answer.json()["id"]
    wait_for(lambda: stack.smtp.count() >= 10, 20, what="the first emails")

    paused = gateway.request("POST", f"/v1/recovery-batches/{batch_id}/pause")
    assert paused.status == 200 and paused.json()["batch"]["status"] == "paused", paused
    time.sleep(1)
    held = stack.smtp.count()
    time.sleep(1.5)
    assert stack.smtp.count() == held, "a paused batch went on sending"
    assert gateway.request("POST", f"/v1/recovery-batches/{batch_id}/pause").status == 409

    resumed = gateway.request("POST", f"/v1/recovery-batches/{batch_id}/resume")
    assert resumed.status == 200 and resumed.json()["batch"]["status"] == "running", resumed
    wait_for(lambda: stack.smtp.count() >= held + 10, 20, what="sending again")

    cancelled = gateway.request("POST", f"/v1/recovery-batches/{batch_id}/cancel", {"reason": "wrong list"})
    assert cancelled.status == 200, cancelled
    stopped, on_the_wire = cancelled.json()["cancelled_items"], cancelled.json()["on_the_wire"]
    assert cancelled.json()["batch"]["status"] == "cancelled" and stopped > 200, cancelled
    time.sleep(2)
    final = batch_status(gateway, batch_id)
    # Exact: no item is accepted after the cancel's answer.
    assert final["counts"]["cancelled"] == stopped and final["counts"]["pending"] == 0, final
    assert stack.smtp.count() == final["counts"]["accepted"] == 300 - stopped
    assert gateway.request("POST", f"/v1/recovery-batches/{batch_id}/resume").status == 409
    events = [e for e in gateway.audit_ndjson() if e["action"] == "batch.cancelled"]
    assert len(events) == 1 and events[0]["details"] == {
        "batch_id": batch_id,
        "cancelled_items": str(stopped),
        "on_the_wire": str(on_the_wire),
        "reason": "wrong list",
    }
    assert [e["action"] for e in gateway.audit_ndjson() if e["action"] in ("batch.paused", "batch.resumed")] == [
        "batch.paused",
        "batch.resumed",
    ]
    assert gateway.request("GET", f"/v1/recovery-batches/{UNKNOWN}").status == 404


def test_kill_9_mid_send_sends_each_item_once_more_at_most_and_loses_none(stack):
    gateway = stack.start_gateway()
    ids = make_identities(stack.stand_in, 400, "crash-send")
    answer = post_batch(gateway, [json.dumps(i) for i in ids], "batch-crash-send", rate=100)
    assert answer.status == 202, answer
    batch_id = answer.json()["id"]
    wait_for(lambda: stack.smtp.count() >= 150, 30, what="the batch half way")
    gateway.kill9()
    gateway.start()
    done = wait_batch(gateway, batch_id, {"done"}, 60)
    assert done["counts"]["accepted"] == 400, done
    gateway.wait_all_sent(timeout=60)
    sent_to = recipients(stack.smtp)
    assert len(sent_to) == 400, "an item was lost"
    # In flight at the kill: at most the worker's 8 sends (the runner's items replay their key).
    assert sum(count - 1 for count in sent_to.values()) <= 8, sent_to.most_common(3)


def test_kill_9_mid_ingest_then_the_same_upload_resumes_without_duplicates(stack):
    gateway = stack.start_gateway()
    ids = make_identities(stack.stand_in, 1000, "crash-ingest")
    lines = [json.dumps(i).encode() + b"\n" for i in ids]
    path = "/v1/recovery-batches?reason=migration&rate=1000"
    headers = {
        "Authorization": "Bearer " + KEYS["backend"][0],
        "Content-Type": "application/x-ndjson",
        "Idempotency-Key": "batch-crash-ingest",
    }
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    connection.putrequest("POST", path)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, 700, 100):
        chunk = b"".join(lines[start : start + 100])
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    time.sleep(1.5)  # the first 500 are stored; the upload is not finished
    gateway.kill9()
    connection.close()
    gateway.start()
    assert stack.smtp.count() == 0, "a batch was sent before its upload was complete"

    answer = post_batch(
        gateway, [line.decode().strip() for line in lines], "batch-crash-ingest", reason="migration", rate=1000
    )
    assert answer.status == 202 and "Idempotent-Replayed" not in answer.headers, answer
    batch = answer.json()
    assert batch["total"] == 1000, batch
    done = wait_batch(gateway, batch["id"], {"done"}, 60)
    assert {k: v for k, v in done["counts"].items() if v} == {"accepted": 1000}, done
    gateway.wait_all_sent(timeout=120)
    sent_to = recipients(stack.smtp)
    assert len(sent_to) == 1000 and set(sent_to.values()) == {1}
    created = [e for e in gateway.audit_ndjson() if e["action"] == "batch.created"]
    assert len(created) == 1 and created[0]["details"]["items"] == "1000"


def test_the_command_line_sends_follows_and_reports_a_batch(stack, gateway, tmp_path):
    ids = make_identities(stack.stand_in, 40, "cli")
    listing = tmp_path / "ids.txt"
    listing.write_text("\n".join(ids + [UNKNOWN]) + "\n")
    # In a pipe: the key, then only the final summary (no progress line).
    result = cli(
        gateway,
        "batch",
        "send",
        "--file",
        str(listing),
        "--reason",
        "cli batch",
        "--rate",
        "20",
        "--idempotency-key",
        "cli-batch-1",
    )
    assert result.returncode == 0, result.err
    assert result.err == "", result.err
    shown = fields(result.out)
    assert shown["idempotency key"] == "cli-batch-1" and shown["status"] == "done", result.out
    assert (shown["items"], shown["accepted"], shown["not_found"]) == ("41", "40", "1"), result.out
    batch_id = shown["batch"]

    status = cli(gateway, "batch", "status", batch_id)
    assert status.returncode == 0 and fields(status.out)["accepted"] == "40", status.err
    report = cli(gateway, "batch", "report", batch_id, "--outcome", "not_found")
    assert report.returncode == 0, report.err
    assert report.out.splitlines() == [
        "position,outcome,identity_id,recipient,delivery_id,reason",
        "41,not_found,,,,Kratos knows no such identity (or none logs in with this email)",
    ]
    cancel = cli(gateway, "batch", "cancel", batch_id)
    assert cancel.returncode == 1 and "HTTP 409 batch_state" in cancel.err and one_line(cancel), cancel.err
    assert cli(gateway, "batch", "status", "not-a-uuid").returncode == 2

    # On a terminal: a progress line (done/total, rate, ETA) on stderr.
    primary, secondary = pty.openpty()
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RECOVERY_GATEWAY_SERVER": gateway.url,
        "RECOVERY_GATEWAY_API_KEY": KEYS["backend"][0],
    }
    process = subprocess.Popen(
        [
            str(GATEWAY_BIN),
            "batch",
            "send",
            "--file",
            str(listing),
            "--reason",
            "tty batch",
            "--rate",
            "10",
            "--idempotency-key",
            "cli-batch-2",
        ],
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=environment,
    )
    os.close(secondary)
    out, _ = process.communicate(timeout=60)
    progress = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        progress += chunk
    os.close(primary)
    assert process.returncode == 0, progress
    assert re.search(rb"of 41 \(\d+%\), \d+/s, eta \d+ s", progress), progress
    assert fields(out.decode())["status"] == "done"


def test_two_replicas_on_postgresql_send_a_batch_once(stack, postgres):
    """One batch on PostgreSQL with two gateways: one of them leases it, every item is sent once,
    and the same upload posted to the other replica is the same batch."""
    url = postgres.create_database()
    first = stack.start_gateway(overrides={"store.url": url}, name="replica1")
    second = stack.start_gateway(overrides={"store.url": url}, name="replica2")
    ids = make_identities(stack.stand_in, 300, "replicas")
    lines = [json.dumps(i) for i in ids] + ["{not json"]
    answer = post_batch(first, lines, "batch-replicas", rate=100)
    assert answer.status == 202, answer
    batch_id = answer.json()["id"]
    again = post_batch(second, lines, "batch-replicas", rate=100)
    assert again.status == 202 and again.json()["id"] == batch_id and again.headers["Idempotent-Replayed"] == "true"
    done = wait_batch(second, batch_id, {"done"}, 60)
    assert {k: v for k, v in done["counts"].items() if v} == {"accepted": 300, "invalid": 1}, done
    wait_for(lambda: stack.smtp.count() == 300, 60, what="every email")
    time.sleep(1)
    sent_to = recipients(stack.smtp)
    assert len(sent_to) == 300 and set(sent_to.values()) == {1}
    report = second.request("GET", f"/v1/recovery-batches/{batch_id}/items?outcome=invalid").json()
    assert [(i["position"], i["reason"]) for i in report["items"]] == [(301, "line: is not JSON")]

"""One Idempotency-Key under 50-way concurrency, and a hard crash (kill -9) in the middle of a burst."""

import collections
import concurrent.futures
import sqlite3
import threading
import time

from harness import ALICE, message_key, wait_for


def test_fifty_concurrent_requests_with_one_key_make_one_delivery_and_one_email(stack, gateway):
    barrier = threading.Barrier(50)
    body = {"identity_id": ALICE, "reason": "concurrency"}

    def call(_):
        barrier.wait()
        return gateway.send(body, "one-key-for-fifty")

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(call, range(50)))
    statuses = collections.Counter(a.status for a in answers)
    assert statuses == {202: 50}, statuses
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1, ids
    replayed = sum(1 for a in answers if a.headers.get("Idempotent-Replayed") == "true")
    assert replayed == 49, replayed
    [delivery_id] = ids
    delivery = gateway.wait_status(delivery_id, "sent")
    time.sleep(1)  # room for a wrong second send to show up
    assert [d["id"] for d in gateway.deliveries()] == [delivery_id]
    message_ids = stack.smtp.message_ids()
    assert [message_key(m) for m in message_ids] == [message_key(delivery["message_id"])]
    assert len(stack.stand_in.issued()) == 1
    requested = [e for e in gateway.audit_ndjson() if e["action"] == "email.requested"]
    assert len(requested) == 1


def test_kill_9_during_a_burst_then_restart_sends_every_delivery(stack, capsys):
    total, workers = 300, 8
    gateway = stack.start_gateway(overrides={"delivery.workers": workers, "delivery.lease": "2s"})
    # Each link takes 100 ms at Kratos (80 sends/s with 8 workers), so the burst is still going out
    # when the gateway dies.
    stack.stand_in.fault("/admin/recovery/link", 10000, delay_ms=100)

    def accept(n):
        answer = gateway.send({"identity_id": ALICE, "reason": f"burst {n}"}, f"burst-{n}")
        assert answer.status == 202, answer
        return answer.json()["id"]

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        accepted = list(pool.map(accept, range(total)))
    accept_seconds = time.monotonic() - started
    # Kill while the deliveries go out: some sent, most not yet, `workers` of them in flight.
    wait_for(lambda: stack.smtp.count() >= 30, 60, interval=0.01, what="30 emails before the kill")
    gateway.kill9()
    emails_before_kill = stack.smtp.count()
    assert emails_before_kill < total, "the burst was over before the kill: nothing was tested"
    database = sqlite3.connect(f"file:{gateway.workdir}/gateway.sqlite?mode=ro", uri=True)
    in_flight = database.execute("SELECT count(*) FROM deliveries WHERE status = 'sending'").fetchone()[0]
    database.close()
    assert 0 < in_flight <= workers, in_flight  # the restart must take leased rows back

    gateway.start()
    deliveries = gateway.wait_all_sent(what="every delivery sent after the restart")
    assert {d["id"] for d in deliveries} == set(accepted)
    time.sleep(0.5)
    received = stack.smtp.received()
    expected = {message_key(d["message_id"]) for d in deliveries}
    assert set(received) == expected, "every delivery reached the SMTP server, and nothing else did"
    duplicates = sum(received.values()) - len(received)
    with capsys.disabled():
        print(
            f"\n[kill -9] accepted={len(accepted)} stored={len(deliveries)} sent={len(received)} "
            f"emails_received={sum(received.values())} duplicates={duplicates} (workers={workers}) "
            f"emails_before_kill={emails_before_kill} in_flight_at_kill={in_flight} accept_seconds={accept_seconds:.2f}"
        )
    assert duplicates <= workers

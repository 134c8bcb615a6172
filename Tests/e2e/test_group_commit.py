"""Group commit (issue 13): `kill -9` of the gateway while concurrent accepts share transactions, on
SQLite and on PostgreSQL. Every request answered 202 before the kill must have been durable: after
the restart each of them is delivered, exactly once (counted by Message-ID at the SMTP server)."""

import collections
import concurrent.futures
import http.client
import signal
import threading
import urllib.error

import pytest

from harness import ALICE, message_key, wait_for


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_kill_9_during_group_commits_keeps_every_202(stack, request, store, capsys):
    overrides = {"delivery.workers": 8, "delivery.lease": "2s"}
    if store == "postgres":
        overrides["store.url"] = request.getfixturevalue("postgres").create_database()
    gateway = stack.start_gateway(overrides=overrides)
    # The SMTP server is stopped (SIGSTOP) until after the restart: no email can arrive before the
    # kill, so none can arrive twice, and "exactly once" is what the accepts alone decide.
    stack.smtp.process.send_signal(signal.SIGSTOP)
    clients, enough = 32, 300
    answered, failed = [], collections.Counter()
    lock, stop = threading.Lock(), threading.Event()

    def client(number):
        n = 0
        while not stop.is_set():
            n += 1
            try:
                answer = gateway.send({"identity_id": ALICE, "reason": "group commit"}, f"gc-{number}-{n}")
            except urllib.error.URLError:  # refused: the gateway is dead
                with lock:
                    failed["refused"] += 1
                continue
            except (OSError, http.client.HTTPException):  # sent, and in flight when the gateway died
                with lock:
                    failed["in_flight"] += 1
                continue
            with lock:
                if answer.status == 202:
                    answered.append(answer.json()["id"])
                else:
                    failed[answer.status] += 1

    try:
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            running = [pool.submit(client, number) for number in range(clients)]
            wait_for(lambda: len(answered) >= enough, 120, interval=0.01, what=f"{enough} accepts")
            gateway.kill9()
            stop.set()
            for future in running:
                future.result()
    finally:
        stack.smtp.process.send_signal(signal.SIGCONT)
    # The clients were still sending: requests were in flight (waiting for a group commit) when it died.
    assert failed["in_flight"] > 0 and set(failed) <= {"in_flight", "refused"}, failed
    # Every 202 was answered before the kill (kill9 returns once the process is gone).

    gateway.start()
    deliveries = gateway.wait_all_sent(what="every delivery sent after the restart")
    stored = {d["id"]: d for d in deliveries}
    assert set(answered) <= set(stored), "a 202 answered before the kill was lost"
    wait_for(lambda: stack.smtp.count() >= len(stored), 30, interval=0.1, what="every email at the server")
    received = stack.smtp.received()
    assert received == collections.Counter({message_key(d["message_id"]): 1 for d in deliveries})
    verified = gateway.request("GET", "/v1/audit-events/verify").json()
    assert verified["ok"] is True, verified
    with capsys.disabled():
        print(
            f"\n[group commit kill -9, {store}] answered_202={len(answered)} stored={len(stored)} "
            f"in_flight_failed={dict(failed)} emails={sum(received.values())}"
        )

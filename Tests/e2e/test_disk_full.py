"""A full disk under the SQLite store (issue 17): 503 while it is full, every accepted request sent
once space returns, the audit chain intact. The store lives on a small tmpfs of the test's own
(mounting one needs root; the test is skipped where it cannot)."""

import errno
import os
import subprocess

import pytest

from harness import ALICE, message_key, wait_for


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs at tmp_path/disk, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield str(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def fill(path):
    """Writes `path` until the file system has no space left."""
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    # The last bytes, one at a time: not even a page fits any more.
    with open(path, "ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0")
        except OSError as error:
            assert error.errno == errno.ENOSPC, error


def test_a_full_disk_is_503_and_every_accepted_request_is_sent_once_space_returns(stack, small_disk):
    gateway = stack.start_gateway(overrides={"store.url": "sqlite://" + os.path.join(small_disk, "gateway.sqlite")})
    accepted = []
    answer = gateway.send({"identity_id": ALICE, "reason": "before full"}, "before-full", wait=10)
    assert answer.status == 200 and answer.json()["status"] == "sent", answer
    accepted.append(answer.json()["id"])

    # Five more accepted whose sends are still at Kratos when the disk fills: their outcome must be
    # recorded once space returns.
    stack.stand_in.fault("/admin/recovery/link", 5, delay_ms=1500)
    for n in range(5):
        answer = gateway.send({"identity_id": ALICE, "reason": f"in flight {n}"}, f"in-flight-{n}")
        assert answer.status == 202, answer
        accepted.append(answer.json()["id"])
    filler = os.path.join(small_disk, "filler")
    fill(filler)
    statuses = []
    for n in range(200):
        answer = gateway.send({"identity_id": ALICE, "reason": f"while full {n}"}, f"full-{n}")
        assert answer.status in (202, 503), answer
        statuses.append(answer.status)
        if answer.status == 202:
            accepted.append(answer.json()["id"])
        else:
            assert answer.json()["code"] == "store_unavailable", answer
            if statuses[-3:] == [503, 503, 503]:
                break
    assert statuses[-3:] == [503, 503, 503], statuses

    wait_for(lambda: stack.smtp.count() >= 6, 30, interval=0.1, what="the in-flight emails out while full")
    assert {d["id"] for d in gateway.deliveries()} == set(accepted)
    # Sent, but not recorded yet: the worker waits for the disk rather than letting the lease send again.
    wait_for(lambda: "the attempt's outcome waits for it" in gateway.logs(), 10, what="a worker waiting for the disk")
    os.remove(filler)
    answer = wait_for(
        lambda: (a := gateway.send({"identity_id": ALICE, "reason": "space again"}, "after-full")).status == 202 and a,
        30,
        interval=0.2,
        what="202 once space returns",
    )
    accepted.append(answer.json()["id"])
    sent = gateway.wait_all_sent(timeout=60)
    assert {d["id"] for d in sent} == set(accepted)
    received = stack.smtp.received()
    assert received == {message_key(d["message_id"]): 1 for d in sent}, received  # each once
    verified = gateway.request("GET", "/v1/audit-events/verify").json()
    assert verified["ok"] is True and verified["events"] >= 2 * len(accepted), verified
    print(f"\n[disk full] answers while full: {statuses.count(202)} x 202, {statuses.count(503)} x 503")

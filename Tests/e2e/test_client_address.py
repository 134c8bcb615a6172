"""`server.trusted_proxies`: behind a proxy the operator names, the client is the last address in
X-Forwarded-For that is not a trusted proxy: the audit log records it, and the console's sign-in
throttle counts by it. From any other peer the header is never believed."""

import re
import urllib.parse

from harness import ALICE, http

CLIENT = "203.0.113.7"
OTHER_CLIENT = "198.51.100.20"


def sent_from(gateway, key, forwarded):
    answer = gateway.send({"identity_id": ALICE, "reason": key}, key, headers={"X-Forwarded-For": forwarded})
    assert answer.status == 202, answer
    delivery = answer.json()["id"]
    (event,) = [e for e in gateway.audit_ndjson() if e["action"] == "email.requested" and e["delivery_id"] == delivery]
    return event["source_ip"]


def test_the_audit_log_records_the_forwarded_client_behind_a_trusted_proxy_only(stack):
    trusting = stack.start_gateway(overrides={"server.trusted_proxies": ["127.0.0.0/8"]}, name="trusting")
    # What the client wrote itself, left of what the proxy appended, is never read.
    assert sent_from(trusting, "behind-proxy", f"{OTHER_CLIENT}, {CLIENT}") == CLIENT
    assert sent_from(trusting, "no-header", "") == "127.0.0.1"
    assert sent_from(trusting, "junk", "not-an-address") == "127.0.0.1"
    plain = stack.start_gateway(name="plain")
    assert sent_from(plain, "spoofed", CLIENT) == "127.0.0.1"


def sign_in_attempt(gateway, forwarded):
    """One console sign-in with a wrong key, as a browser posts it, from `forwarded`; the status."""
    page = http("GET", gateway.url + "/console/sign-in", headers={"X-Forwarded-For": forwarded})
    cookie = next(v.split(";")[0] for k, v in page.headers.items() if k.lower() == "set-cookie" and "signin=" in v)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.body.decode()).group(1)
    answer = http(
        "POST",
        gateway.url + "/console/sign-in",
        urllib.parse.urlencode({"csrf": csrf, "api_key": "rg_not_a_key"}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "X-Forwarded-For": forwarded,
        },
    )
    return answer.status


def test_the_sign_in_throttle_counts_by_the_forwarded_client(stack):
    gateway = stack.start_gateway(overrides={"server.trusted_proxies": ["127.0.0.1"]})
    # Ten attempts at once, then one every six seconds: on a slow run tokens come back, so the
    # refusal may come that many attempts later.
    statuses = []
    while 429 not in statuses and len(statuses) < 40:
        statuses.append(sign_in_attempt(gateway, CLIENT))
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}, statuses
    assert len(statuses) >= 11, statuses
    # Another agent behind the same proxy still gets in (here: is told the key is wrong).
    assert sign_in_attempt(gateway, OTHER_CLIENT) == 401

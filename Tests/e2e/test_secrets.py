"""No secret (link, code, API key, SMTP password, Kratos token, audit key) in any artefact of a real run,
in plain, URL-encoded, JSON-escaped, HTML-escaped or base64 form; no full recipient address in the logs
or the audit export."""

import base64
import glob
import html
import json
import os
import re
import urllib.parse

import pytest

from harness import ALICE, ALICE_EMAIL, KEYS, wait_for
from kratos_courier import KratosCourierClient, ctx_documents

SMTP_USER = "mailer"
SMTP_PASSWORD = "s3cret-SMTP-pass/word+e2e"
KRATOS_TOKEN = "ory_pat_e2eTokenA1b2C3d4E5f6G7h8"
# The members of Kratos's courier documents that hold a link or a code.
COURIER_SECRET_KEYS = [
    "recovery_url",
    "recovery_code",
    "verification_url",
    "verification_code",
    "login_code",
    "registration_code",
]


def courier_secrets():
    """Every link, link token and code of the v26.2 courier fixtures."""
    found = {}
    for template_type, ctx in ctx_documents("v26.2").items():
        for key in COURIER_SECRET_KEYS:
            if value := ctx["template_data"].get(key):
                found[f"courier {template_type} {key}"] = value
                query = urllib.parse.parse_qs(urllib.parse.urlparse(value).query)
                for name in ("token", "code"):
                    if name in query:
                        found[f"courier {template_type} {key} {name}"] = query[name][0]
    return found


def forms(secret):
    """The encodings a secret could leak in."""
    text = secret.decode("latin-1") if isinstance(secret, bytes) else secret
    raw = secret if isinstance(secret, bytes) else secret.encode()
    found = {
        raw,
        urllib.parse.quote(text, safe="").encode(),
        urllib.parse.quote(text).encode(),
        urllib.parse.quote_plus(text).encode(),
        json.dumps(text)[1:-1].encode(),
        json.dumps(text)[1:-1].replace("/", "\\/").encode(),
        html.escape(text).encode(),
        html.escape(text, quote=False).encode(),
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        raw.hex().encode(),
    }
    return {f for f in found if len(f) >= 6}


def leaks(blob, secret):
    """The forms of `secret` found in `blob`; a numeric code only counts between non-digits."""
    hits = []
    for form in forms(secret):
        if form.isdigit():
            if re.search(rb"(?<![0-9])" + re.escape(form) + rb"(?![0-9])", blob):
                hits.append(form)
        elif form in blob:
            hits.append(form)
    return hits


# At debug level swift-service-lifecycle logs every service's description, which reaches the
# Kratos and SMTP settings: they must print redacted. At trace every library the gateway uses may
# log what it does; the plain format prints metadata its own way. Every run goes through a send the
# SMTP server refuses (with a reply naming the recipient), one Kratos fails first (a retry), and
# two that are sent, and scrapes /metrics.
@pytest.mark.parametrize("level,fmt", [("info", "json"), ("debug", "json"), ("trace", "json"), ("trace", "plain")])
def test_no_secret_leaks_anywhere(bare, tmp_path, level, fmt):
    token_file = tmp_path / "kratos.token"
    token_file.write_text(KRATOS_TOKEN + "\n")
    password_file = tmp_path / "smtp.password"
    password_file.write_text(SMTP_PASSWORD + "\n")
    stand_in = bare.start_stand_in(token_file=token_file)
    smtp = bare.start_smtp(
        "--tls",
        "starttls",
        "--auth",
        f"{SMTP_USER}:{SMTP_PASSWORD}",
        "--fail-first",
        "1",
        "--fail-reply",
        f"550 5.1.1 <{ALICE_EMAIL}>: mailbox unavailable",
    )
    gateway = bare.start_gateway(
        smtp_url=f"smtp://{SMTP_USER}@127.0.0.1:{smtp.port}/",
        overrides={
            "smtp.password_file": str(password_file),
            "smtp.ca_file": smtp.cert,
            "kratos.token_file": str(token_file),
            "logging.level": level,
            "logging.format": fmt,
            # Every courier document type goes to one recipient here: more than its default limit.
            "courier.recipient_limit": 1000,
        },
    )
    refused = gateway.send({"identity_id": ALICE, "method": "link"}, "leak-refused", wait=15)
    assert refused.status == 200 and refused.json()["failure"] == "rejected", refused
    stand_in.fault("/admin/recovery/code", 1, status=503)
    code = gateway.send({"identity_id": ALICE, "method": "code", "locale": "de"}, "leak-code", wait=15)
    link = gateway.send({"identity_id": ALICE, "method": "link", "reason": "leak check"}, "leak-link", wait=15)
    assert code.status == 200 and code.json()["status"] == "sent" and code.json()["attempts"] == 2, code
    assert link.status == 200 and link.json()["status"] == "sent", link
    # Replays, reads, lists, errors and audit reads: every body the gateway gives out is scanned.
    gateway.send({"identity_id": ALICE, "method": "link", "reason": "leak check"}, "leak-link")
    gateway.delivery(link.json()["id"])
    gateway.deliveries()
    gateway.request("GET", "/v1/recovery-emails", key="rg_wrong")
    gateway.request("GET", f"/no-such-route/{ALICE_EMAIL}", key=None)
    gateway.send({"identity_id": ALICE, "recipient": "x@example.com"}, "leak-foreign")
    gateway.request("GET", "/v1/audit-events")
    http_csv = gateway.request("GET", "/v1/audit-events", headers={"Accept": "text/csv"}).body
    http_ndjson = gateway.request("GET", "/v1/audit-events", headers={"Accept": "application/x-ndjson"}).body
    gateway.request("GET", "/v1/audit-events/verify")
    # Kratos's courier: every type posted (twice: the repost is answered from the store) and sent.
    courier = KratosCourierClient(gateway.url + "/v1/courier/kratos", "Bearer " + KEYS["kratos"][0])
    for ctx in ctx_documents("v26.2").values():
        assert courier.dispatch(ctx).status == 202
        assert courier.dispatch(ctx).status == 200
    bad = dict(ctx_documents("v26.2")["login_code_valid"], message_type="sms")
    assert courier.dispatch(bad).status == 422
    wait_for(
        lambda: all(d["status"] == "sent" for d in gateway.deliveries(source="kratos_courier")),
        60,
        what="courier messages sent",
    )
    metrics = gateway.request("GET", "/metrics", key=None)
    assert metrics.status == 200 and b"recovery_gateway_delivery_attempts_total" in metrics.body, metrics

    issued = stand_in.issued()
    assert [i["method"] for i in issued] == ["link", "code", "link"], issued
    links = [i["recovery_link"] for i in issued if i["method"] == "link"]
    tokens = [urllib.parse.parse_qs(urllib.parse.urlparse(u).query)["token"][0] for u in links]
    codes = [i["recovery_code"] for i in issued if i["method"] == "code"]
    # The messages really carried them (so the scan looks for the right strings); the refused one
    # (the first link) is not kept by the server.
    mails = b"".join(open(p, "rb").read() for p in glob.glob(os.path.join(smtp.maildir, "*.eml")))
    assert all(c.encode() in mails for c in codes)
    assert tokens[-1].encode() in mails.replace(b"=\r\n", b"")
    assert all(json.load(open(p))["authenticated"] for p in glob.glob(os.path.join(smtp.maildir, "*.json")))
    assert all(c.encode() in mails for c in ["731904", "508217", "294615", "163842"])

    audit_key = open(gateway.workdir + "/audit.key", "rb").read()
    assert len(audit_key) >= 32
    secrets = {
        **{f"link {n}": u for n, u in enumerate(links)},
        **{f"token {n}": t for n, t in enumerate(tokens)},
        **{f"code {n}": c for n, c in enumerate(codes)},
        **{f"api key {name}": key for name, (key, _) in KEYS.items()},
        "smtp password": SMTP_PASSWORD,
        "kratos token": KRATOS_TOKEN,
        "audit key": audit_key,
        **courier_secrets(),
    }
    # The keys the gateway made have a directory of their own (0700), not the database's.
    assert os.stat(gateway.workdir + "/keys").st_mode & 0o777 == 0o700
    courier_key = open(gateway.workdir + "/keys/courier-payload.key", "rb").read()
    assert len(courier_key) == 32
    secrets["courier payload key"] = courier_key

    def artefacts():
        found = {}
        for path in glob.glob(gateway.workdir + "/gateway.sqlite*"):
            found[os.path.basename(path)] = open(path, "rb").read()
        found["logs"] = gateway.logs().encode()
        found["responses"] = b"\n".join(gateway.bodies)
        found["http audit csv"] = http_csv
        found["http audit ndjson"] = http_ndjson
        found["metrics"] = metrics.body
        for export in ("ndjson", "csv"):
            result = gateway.cli("audit", "export", "--format", export)
            assert result.returncode == 0, result.stderr
            found[f"cli audit {export}"] = result.stdout + result.stderr
        return found

    # The level took effect: below info, the libraries' own lines are there to be scanned too.
    logs = gateway.logs()
    below_info = ('"level":"debug"', '"level":"trace"') if fmt == "json" else (" debug ", " trace ")
    assert any(marker in logs for marker in below_info) == (level != "info"), logs[-1000:]
    if level == "trace":
        assert below_info[1] in logs, "no trace line at level trace"

    running = artefacts()
    assert "gateway.sqlite-wal" in running
    assert gateway.stop() == 0
    stopped = artefacts()
    problems = []
    for label, blobs in (("running", running), ("stopped", stopped)):
        for where, blob in blobs.items():
            for what, secret in secrets.items():
                if hits := leaks(blob, secret):
                    problems.append(f"{what} in {where} ({label}): {hits[:2]}")
    assert problems == []

    # The recipient appears only masked in the logs and the audit export.
    for where in ("logs", "cli audit ndjson", "cli audit csv", "http audit csv", "http audit ndjson", "metrics"):
        blob = stopped.get(where, running.get(where)).lower()
        for form in forms(ALICE_EMAIL) | forms("x@example.com") | forms("lena.schmidt@example.com"):
            assert form not in blob, f"full recipient {form!r} in {where}"
    assert b"f***@o***.sh" in stopped["cli audit ndjson"]


def test_a_key_left_at_the_old_default_stops_the_start(stack):
    """Key files defaulted to data/, beside the database, before they got keys/: a key still there is
    named, with how to move it, instead of a new key being made in keys/."""
    os.makedirs(os.path.join(stack.workdir, "data"))
    old = os.path.join(stack.workdir, "data", "courier-payload.key")
    with open(old, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(old, 0o600)
    gateway = stack.start_gateway(ready=False)
    assert gateway.process.wait(timeout=30) == 1
    logs = gateway.logs()
    assert "courier.payload_key_file" in logs and "mv data/courier-payload.key keys/courier-payload.key" in logs, logs
    assert not os.path.exists(os.path.join(stack.workdir, "keys", "courier-payload.key"))
    # Moved as the message says, it starts and uses that key.
    os.makedirs(os.path.join(stack.workdir, "keys"), mode=0o700)
    os.rename(old, os.path.join(stack.workdir, "keys", "courier-payload.key"))
    gateway.start()
    assert gateway.request("GET", "/health/ready", key=None).status == 200

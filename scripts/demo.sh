#!/usr/bin/env bash
# The README's first set-up command: installs what is needed, builds, and runs the whole thing on one
# machine with nothing else installed — the Kratos stand-in, a local mail catcher that writes what it
# receives to data/demo/mail/, and the gateway on its embedded defaults (SQLite under data/demo) —
# then sends one recovery email through the API and shows the delivery's state, the email that
# arrived and the audit log. Everything listens on 127.0.0.1 and is stopped at the end.
#
#   scripts/demo.sh           run the demo and stop
#   scripts/demo.sh --keep    leave the three services running (Ctrl-C stops them)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product recovery-gateway
swift build --product kratos-stand-in
bin=$(swift build --show-bin-path)
py=.venv/bin/python3

demo=data/demo
rm -rf "$demo" && mkdir -p "$demo"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# A fresh API key for this run; the gateway is only told its SHA-256.
key="rg_demo_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
hash=$(printf %s "$key" | sha256sum | cut -d' ' -f1)
export RECOVERY_GATEWAY_API_KEYS="[{name: demo, sha256: \"$hash\", scopes: [recovery:send, recovery:read, audit:read]}]"
export RECOVERY_GATEWAY_SMTP_URL="smtp://127.0.0.1:1025/?disable_starttls=true"
export RECOVERY_GATEWAY_STORE_URL="sqlite://$demo/gateway.sqlite"
export RECOVERY_GATEWAY_AUDIT_KEY_FILE="$demo/audit.key"
export RECOVERY_GATEWAY_LOGGING_FORMAT=plain

"$py" scripts/smtp_server.py --port 1025 --maildir "$demo/mail" >"$demo/mail-catcher.log" 2>&1 &
pids+=($!)
"$bin/kratos-stand-in" --port 4434 --public-url http://127.0.0.1:4433 >"$demo/kratos-stand-in.log" 2>&1 &
pids+=($!)
"$bin/recovery-gateway" serve >"$demo/gateway.log" 2>&1 &
pids+=($!)
# Waits until all three answer — the gateway and the stand-in their readiness check, the catcher
# its SMTP greeting — so the first attempt of the email finds everything up.
ready() {
    local name="$1" log="$2"
    shift 2
    for _ in $(seq 300); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the $name did not start within 30 s:"
    cat "$log"
    exit 1
}
ready "mail catcher" "$demo/mail-catcher.log" \
    "$py" -c 'import smtplib; smtplib.SMTP("127.0.0.1", 1025, timeout=2).quit()'
ready "Kratos stand-in" "$demo/kratos-stand-in.log" curl -sf http://127.0.0.1:4434/health/ready
ready gateway "$demo/gateway.log" curl -sf http://127.0.0.1:8080/health/ready

show() { "$py" -m json.tool; }
echo
echo "== POST /v1/recovery-emails for identity a251ebc2-… (the stand-in's foobar@ory.sh), waiting for the outcome"
curl -s -X POST http://127.0.0.1:8080/v1/recovery-emails \
    -H "Authorization: Bearer $key" -H "Idempotency-Key: demo-1" -H "Prefer: wait=10" \
    -H "Content-Type: application/json" \
    -d '{"identity_id": "a251ebc2-880c-4f76-a8f3-38e6940eab0e", "locale": "de-CH", "reason": "demo"}' | tee "$demo/answer.json" | show
id=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$demo/answer.json")

echo
echo "== GET /v1/recovery-emails/$id"
curl -s "http://127.0.0.1:8080/v1/recovery-emails/$id" -H "Authorization: Bearer $key" | show

echo
echo "== the email the mail catcher received (raw: $demo/mail/000001.eml), headers and text part"
"$py" - "$demo/mail/000001.eml" <<'PY'
import email, email.policy, sys
message = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.strict)
for name in ("Date", "From", "To", "Subject", "Message-ID", "Auto-Submitted", "Content-Type"):
    print(f"{name}: {message[name]}")
print()
print(message.get_body(("plain",)).get_content())
print(f"(and an HTML part of {len(message.get_body(('html',)).get_content())} characters)")
PY

echo
echo "== the audit log (GET /v1/audit-events, as CSV) and its verification"
curl -s http://127.0.0.1:8080/v1/audit-events -H "Authorization: Bearer $key" -H "Accept: text/csv"
curl -s http://127.0.0.1:8080/v1/audit-events/verify -H "Authorization: Bearer $key" | show

if [ "${1:-}" = "--keep" ]; then
    echo
    echo "The gateway (http://127.0.0.1:8080), the stand-in (:4434) and the catcher (:1025) keep running."
    echo "API key for this run: $key   (Ctrl-C stops everything)"
    wait
fi

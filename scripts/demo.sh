#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, starts a local mail catcher and the
# Kratos stand-in, creates a recovery link at the stand-in and sends one email through the
# gateway's SMTP transport, then shows the email as it arrived. Everything stays on 127.0.0.1.
#
# (The recovery-gateway daemon itself is being built; until it lands, this shows its parts.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product recovery-gateway
swift build --product kratos-stand-in
bin=$(swift build --show-bin-path)

demo=data/demo
rm -rf "$demo" && mkdir -p "$demo"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

.venv/bin/python3 scripts/smtp_server.py --port 1025 --maildir "$demo/mail" --ready-file "$demo/smtp.port" &
pids+=($!)
"$bin/kratos-stand-in" --port 4434 >"$demo/stand-in.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    [ -f "$demo/smtp.port" ] && curl -sf http://127.0.0.1:4434/health/ready >/dev/null && break
    sleep 0.1
done

echo
echo "== an identity, as Kratos's admin API answers (the stand-in's default set)"
identity=$(curl -sf "http://127.0.0.1:4434/admin/identities?credentials_identifier=foobar@ory.sh")
echo "$identity" | .venv/bin/python3 -c 'import json,sys; i=json.load(sys.stdin)[0]; print(json.dumps({k: i[k] for k in ("id","traits","recovery_addresses")}, indent=2))'

echo
echo "== a recovery link for it, from POST /admin/recovery/link"
id=$(echo "$identity" | .venv/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
curl -sf -X POST http://127.0.0.1:4434/admin/recovery/link -H 'Content-Type: application/json' \
    -d "{\"identity_id\":\"$id\",\"expires_in\":\"1h\"}"
echo

echo
echo "== one email through the SMTP transport (libcurl) to the local catcher"
"$bin/recovery-gateway" smtp-test --url "smtp://127.0.0.1:1025/?disable_starttls=true" --to foobar@ory.sh

echo
echo "== what the catcher received ($demo/mail/000001.eml)"
cat "$demo/mail/000001.eml"

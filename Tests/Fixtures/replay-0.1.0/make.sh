#!/usr/bin/env bash
# Makes this folder's store: what recovery-gateway 0.1.0 (which stored every answer's bytes with its
# idempotency key) wrote for one request to POST /v1/recovery-emails and one message of Kratos's
# courier, with the answers it gave. Tests/ServerTests/ReplayFixtureTests.swift replays both against
# the current code and expects the very same bytes. Made once, with the binaries of the commit before
# answers were rendered again instead of stored (issue 26, stage 3); kept as it was made.
#
#   Tests/Fixtures/replay-0.1.0/make.sh BIN_DIR    (BIN_DIR holds that build's recovery-gateway and kratos-stand-in)
#
# The keys' lifetimes (delivery.idempotency_window, courier.dedup_retention) are a century, so that
# the records still answer when the test runs. The API keys are the test harness's.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d /tmp/replay-fixture.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$bin/kratos-stand-in" --host 127.0.0.1 --port 0 >"$work/stand-in.log" 2>&1 &
pids+=($!)
standin=""
for _ in $(seq 200); do
    standin=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/stand-in.log" | head -n1 || true)
    [ -n "$standin" ] && break
    sleep 0.05
done
smtp_port=$(free_port)
user_option=()
[ "$(id -u)" = 0 ] && user_option=(-u nobody)
smtp-sink "${user_option[@]}" 127.0.0.1:"$smtp_port" 10 &
pids+=($!)

sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
backend_key=rg_test_backend_key_0123456789  # Tests/ServerTests/GatewayHarness.swift's Keys
kratos_key=rg_test_kratos_courier_key_0123
port=$(free_port)
cat >"$work/gateway.yaml" <<EOF
server: { host: 127.0.0.1, port: $port }
kratos: { admin_url: "$standin" }
smtp: { url: "smtp://127.0.0.1:$smtp_port/?disable_starttls=true" }
store: { url: "sqlite://$work/gateway.sqlite" }
audit: { key_file: "$work/audit.key" }
courier: { payload_key_file: "$work/courier-payload.key", allowed_link_origins: [https://auth.example.com], dedup_retention: 876000h }
templates: { dir: "$root/templates" }
delivery: { cooldown: 0s, idempotency_window: 876000h }
api_keys:
  - { name: backend, sha256: "$(sha $backend_key)", scopes: [recovery:send, recovery:read] }
  - { name: kratos, sha256: "$(sha $kratos_key)", scopes: ["courier:kratos"] }
EOF
"$bin/recovery-gateway" serve --config "$work/gateway.yaml" >"$work/gateway.log" 2>&1 &
gateway=$!
pids+=("$gateway")
url=http://127.0.0.1:$port
for _ in $(seq 400); do
    curl -sf "$url/health/ready" >/dev/null 2>&1 && break
    sleep 0.05
done

post() { # ROUTE KEY BODY_FILE ANSWER_FILE [HEADER]
    curl -s -o "$4" -w '%{http_code}\n' -X POST "$url$1" -H "Authorization: Bearer $2" \
        -H "Content-Type: application/json" ${5:+-H "$5"} --data-binary "@$3"
}
printf '%s' '{"identity_id": "a251ebc2-880c-4f76-a8f3-38e6940eab0e", "locale": "de-CH", "reason": "ticket #4711"}' \
    >"$here/recovery-email.json"
post /v1/recovery-emails "$backend_key" "$here/recovery-email.json" "$here/recovery-email.answer" \
    "Idempotency-Key: fixture-0.1.0" >"$here/recovery-email.status"
post /v1/courier/kratos "$kratos_key" "$root/Tests/Fixtures/kratos-courier/ctx-v26.2/recovery_code_valid.json" \
    "$here/courier.answer" >"$here/courier.status"
# Both sent, so the rows no longer look as they were accepted.
for _ in $(seq 200); do
    [ "$(sqlite3 "$work/gateway.sqlite" "SELECT count(*) FROM deliveries WHERE status = 'sent'")" = 2 ] && break
    sleep 0.1
done
kill -TERM "$gateway"
wait "$gateway"
sqlite3 "$work/gateway.sqlite" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
cp "$work/gateway.sqlite" "$work/audit.key" "$work/courier-payload.key" "$here/"
sqlite3 "$here/gateway.sqlite" "SELECT status, count(*) FROM deliveries GROUP BY status"
cat "$here/recovery-email.status" "$here/courier.status"

#!/usr/bin/env bash
# End-to-end benchmark of recovery-gateway (issue 5): release build, the Kratos stand-in, postfix's
# smtp-sink and the gateway on SQLite. REQUESTS POST /v1/recovery-emails from CLIENTS keep-alive
# connections (each with its own Idempotency-Key and identity), then in the same run, on the same
# sink: smtp-source -d at the gateway's SMTP connection count, and the naive script (look up, create
# link, fill template, smtplib, one by one) against the same stand-in. One final block of figures.
#
#   benchmarks/e2e.sh [REQUESTS=3000] [CLIENTS=32]
#
# Environment: E2E_SMTP_CONNECTIONS (smtp.connections, default 4), E2E_WORKERS (delivery.workers,
# default 8), E2E_NAIVE (emails the naive script sends, default 300), E2E_LOG_LEVEL (default info),
# E2E_SPLIT=1 stops smtp-sink (SIGSTOP) until every request is answered, so that the accept path
# runs alone and the delivery drain is timed after it (a diagnostic: end-to-end is then not the goal's).
# E2E_STORE_DIR=DIR puts the SQLite file in DIR (e.g. /dev/shm, to see what fsync costs).
# E2E_KEEP=1 keeps the work directory (logs, SQLite file) for inspection; E2E_PERF=FILE records the
# gateway with `perf record -g` during the burst into FILE.
# The benchmark config turns the per-identity cooldown off (delivery.cooldown: 0s) and lifts the
# per-key rate limit (rate_per_key/burst_per_key 1000000); everything else is the shipped default.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-3000}
clients=${2:-32}
connections=${E2E_SMTP_CONNECTIONS:-4}
workers=${E2E_WORKERS:-8}
naive_count=${E2E_NAIVE:-300}
log_level=${E2E_LOG_LEVEL:-info}

work=$(mktemp -d /tmp/e2e-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; kill -CONT "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -n "${store_dir:-}" ] && [ "$store_dir" != "$work" ] && rm -rf "$store_dir"
    if [ "${E2E_KEEP:-0}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/install-deps.sh >&2
for product in recovery-gateway kratos-stand-in; do
    swift build -c release --product "$product" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
done
bin=$(swift build -c release --show-bin-path)
py=.venv/bin/python3

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
fail() { echo "e2e: $*" >&2; exit 1; }
now() { date +%s.%N; }
# User + system CPU seconds a process has used so far (/proc/PID/stat fields 14 and 15).
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }

# The machine may be shared: the load average before anything starts goes into the figures.
load_average=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the Kratos stand-in and the two SMTP servers -----------------------------------------------
"$bin/kratos-stand-in" --host 127.0.0.1 --port 0 >"$work/stand-in.log" 2>&1 &
standin_pid=$!
pids+=($!)
standin=""
for _ in $(seq 100); do
    standin=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/stand-in.log" | head -n1 || true)
    [ -n "$standin" ] && break
    sleep 0.1
done
[ -n "$standin" ] || fail "the stand-in did not start: $(cat "$work/stand-in.log")"

# smtp-sink -c keeps running counters ("sess=N quit=N mesg=N", one per \r) on stdout: the count
# of received messages without dumping them to disk.
sink_port=$(free_port)
user_option=()
[ "$(id -u)" = 0 ] && user_option=(-u nobody)
/usr/sbin/smtp-sink "${user_option[@]}" -c -h smtp-sink.bench "127.0.0.1:$sink_port" 256 \
    >"$work/sink.counters" 2>"$work/sink.log" &
sink_pid=$!
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$sink_port") 2>/dev/null && break; sleep 0.1; done

# A mail catcher that keeps what it gets, for one probe email: its size is smtp-source's -l.
"$py" scripts/smtp_server.py --port 0 --maildir "$work/probe-mail" --ready-file "$work/probe.port" \
    >"$work/probe-smtp.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/probe.port" ] && break; sleep 0.1; done
[ -s "$work/probe.port" ] || fail "the probe SMTP server did not start: $(cat "$work/probe-smtp.log")"

"$py" benchmarks/e2e/load.py identities --standin "$standin" --count "$requests" --out "$work/identities"

# --- the gateway -----------------------------------------------------------------------------------
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
key_hash=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
store_dir=${E2E_STORE_DIR:-$work}
[ "$store_dir" = "$work" ] || store_dir=$(mktemp -d "$store_dir/e2e-store.XXXXXX")
gateway_pid=""
gateway_url=""
start_gateway() { # NAME SMTP_PORT
    local name=$1 smtp_port=$2 port
    port=$(free_port)
    cat >"$work/$name.yaml" <<EOF
server:
  host: 127.0.0.1
  port: $port
kratos:
  admin_url: $standin
smtp:
  url: smtp://127.0.0.1:$smtp_port/?disable_starttls=true
  connections: $connections
store:
  url: sqlite://$store_dir/$name.sqlite
audit:
  key_file: $work/audit.key
delivery:
  cooldown: 0s
  workers: $workers
  rate_per_key: 1000000
  burst_per_key: 1000000
templates:
  dir: $PWD/templates
logging:
  level: $log_level
  format: json
api_keys:
  - name: bench
    sha256: "$key_hash"
    scopes: [recovery:send, recovery:read]
EOF
    "$bin/recovery-gateway" serve --config "$work/$name.yaml" >"$work/$name.log" 2>&1 &
    gateway_pid=$!
    pids+=("$gateway_pid")
    gateway_url="http://127.0.0.1:$port"
    for _ in $(seq 200); do
        curl -sf "$gateway_url/health/ready" >/dev/null 2>&1 && return 0
        kill -0 "$gateway_pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "the gateway ($name) did not get ready: $(tail -n 5 "$work/$name.log")"
}
stop_gateway() {
    kill -TERM "$gateway_pid"
    wait "$gateway_pid" || fail "the gateway exited with $? on SIGTERM"
}

# Probe: one email through the whole chain to the catcher, waited for; it must arrive sent.
start_gateway probe "$(cat "$work/probe.port")"
probe=$(curl -sS -X POST "$gateway_url/v1/recovery-emails" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: probe-1" -H 'Prefer: wait=10' \
    -d "{\"identity_id\":\"$(head -n1 "$work/identities")\"}")
grep -q '"status":"sent"' <<<"$probe" || fail "the probe email was not sent: $probe"
message_bytes=$(wc -c <"$work/probe-mail/000001.eml")
stop_gateway

# The run: a fresh database, the sink, a short warm-up, then the burst.
start_gateway main "$sink_port"
export E2E_API_KEY=$key
"$py" benchmarks/e2e/load.py burst --gateway "$gateway_url" --identities "$work/identities" \
    --requests 64 --clients "$clients" --sink-counter "$work/sink.counters" --timeout 30 >"$work/warmup.json"
rss_before=$(ps -o rss= -p "$gateway_pid" | tr -d ' ')
perf_pid=""
if [ -n "${E2E_PERF:-}" ]; then
    perf record -F 499 -g -p "$gateway_pid" -o "$E2E_PERF" >"$work/perf.log" 2>&1 &
    perf_pid=$!
    sleep 1
fi
cpu_standin=$(cpu_seconds "$standin_pid")
cpu_sink=$(cpu_seconds "$sink_pid")
split=()
if [ "${E2E_SPLIT:-0}" = 1 ]; then
    kill -STOP "$sink_pid"
    split=(--resume-pid "$sink_pid")
fi
"$py" benchmarks/e2e/load.py burst --gateway "$gateway_url" --identities "$work/identities" \
    --requests "$requests" --clients "$clients" --sink-counter "$work/sink.counters" --timeout 120 \
    --gateway-pid "$gateway_pid" "${split[@]}" >"$work/burst.json"
rss_after=$(ps -o rss= -p "$gateway_pid" | tr -d ' ')
cpu_standin=$(python3 -c "print(round($(cpu_seconds "$standin_pid") - $cpu_standin, 2))")
cpu_sink=$(python3 -c "print(round($(cpu_seconds "$sink_pid") - $cpu_sink, 2))")
if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
unset E2E_API_KEY
failed=$(curl -sf "$gateway_url/v1/recovery-emails?status=failed&limit=5" -H "Authorization: Bearer $key")
field() { "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/burst.json" "$1"; }

# --- the references, on the same sink ----------------------------------------------------------------
start=$(now)
/usr/sbin/smtp-source -d -s "$connections" -m "$requests" -l "$message_bytes" \
    -f no-reply@example.com -t user@example.com "127.0.0.1:$sink_port"
end=$(now)
source_rate=$(python3 -c "print(round($requests / ($end - $start), 1))")

"$py" benchmarks/e2e/naive.py --standin "$standin" --smtp "127.0.0.1:$sink_port" \
    --identities "$work/identities" --count "$naive_count" --templates "$PWD/templates" >"$work/naive.json"
naive_rate=$("$py" -c "import json; print(json.load(open('$work/naive.json'))['emails_per_second'])")

# --- the figures -----------------------------------------------------------------------------------
emails_rate=$(field emails_per_second)
p99=$(field accept_p99_ms)
ratio_naive=$(python3 -c "print(f'{$emails_rate / $naive_rate:.1f}')" 2>/dev/null || echo n/a)
ratio_source=$(python3 -c "print(f'{$emails_rate / $source_rate:.2f}')" 2>/dev/null || echo n/a)
verdict() { python3 -c "print('met' if $1 else 'MISSED')" 2>/dev/null || echo MISSED; }
echo
echo "== recovery-gateway end-to-end, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $load_average at the start"
echo "   config: SQLite in $(df --output=fstype "$store_dir" | tail -n1) ($store_dir), store pragmas as shipped"
echo "           smtp.connections=$connections, delivery.workers=$workers, logging.level=$log_level,"
echo "           delivery.cooldown=0s, rate_per_key=burst_per_key=1000000 (benchmark only)"
[ "${E2E_SPLIT:-0}" = 1 ] && echo "   SPLIT:  smtp-sink was stopped until the last answer (accept path alone, then the drain)"
echo "   load:   $requests POST /v1/recovery-emails from $clients keep-alive clients (Python asyncio),"
echo "           unique Idempotency-Key and identity each; after a 64-request warm-up"
echo "   answers:                     $(field statuses)  (client CPU $(field client_cpu_seconds) s)"
echo "   accepted/s:                  $(field accepted_per_second)  ($(field accepted) in $(field accept_seconds) s)"
echo "   accept latency p50 / p99:    $(field accept_p50_ms) ms / $p99 ms  (max $(field accept_max_ms) ms)"
echo "   end-to-end emails/s:         $emails_rate  (first request until smtp-sink counted all $(field accepted): $(field e2e_seconds) s)"
echo "   smtp-source -d -s $connections:         $source_rate emails/s  ($requests x $message_bytes bytes, the gateway's message size)"
echo "   naive script:                $naive_rate emails/s  ($naive_count, one by one, one kept-open SMTP connection)"
echo "   after the last answer:       $(field drain_seconds) s until the sink had all"
echo "   gateway CPU:                 $(field gateway_cpu_accept_seconds) s until the last answer, $(field gateway_cpu_drain_seconds) s after"
echo "   other CPU in the burst:      stand-in $cpu_standin s, smtp-sink $cpu_sink s"
echo "   gateway RSS:                 $((rss_before / 1024)) MB before the burst, $((rss_after / 1024)) MB after"
echo "   ratios: end-to-end / naive = $ratio_naive (goal >= 10: $(verdict "$ratio_naive >= 10")),"
echo "           end-to-end / smtp-source = $ratio_source (goal >= 0.15: $(verdict "$ratio_source >= 0.15"))"
echo "   goals:  accept p99 < 5 ms: $(verdict "$p99 < 5"); RSS after burst < 150 MB: $(verdict "$rss_after < 150 * 1024")"
grep -q '"items":\[\]' <<<"$failed" || fail "some deliveries failed: $failed"
[ "$(field e2e_seconds)" != None ] || fail "smtp-sink did not count every accepted email within 120 s"
[ "$(field accepted)" = "$requests" ] || fail "not every request was accepted: $(field statuses)"

#!/usr/bin/env bash
# End-to-end benchmark of recovery-gateway (issue 5): release build, the Kratos stand-in, postfix's
# smtp-sink and the gateway on SQLite. REQUESTS POST /v1/recovery-emails from CLIENTS keep-alive
# connections (each with its own Idempotency-Key and identity), then in the same run, on the same
# sink: smtp-source -d at the gateway's SMTP connection count, and the naive script (look up, create
# link, fill template, smtplib, one by one) against the same stand-in. Then wrk (benchmarks/e2e/accept.lua,
# each request its own Idempotency-Key and identity) from CLIENTS connections: paced at E2E_PACED_RATE
# (200) requests/s offered, with the deliveries running beside it, for the accept latency a caller
# sees; then flat out, for the accept ceiling. One block of figures, and as the last line a summary:
#   e2e_per_s=… naive_per_s=… ratio_naive=… cpu_ms_per_email=… accept_p99_ms=… accepts_per_s_max=… rss_idle_mb=… rss_after_mb=… fsync_p99_ms=… deliver_p99_ms=… accept_phase_p99_max=… delivery_phase_p99_max=…
# (cpu_ms_per_email: the gateway's user+system CPU of the burst ÷ its emails; accept_p99_ms: wrk paced;
# accepts_per_s_max: wrk flat out; rss_idle_mb: after the warm-up, idle; rss_after_mb: after the burst;
# fsync_p99_ms: the disk's own fdatasync p99 where the SQLite file lives, the floor under a durable 202;
# deliver_p99_ms: accept to the SMTP server's 250 (the store's created_at_us to sent_at_us) of the
# deliveries accepted during the paced wrk run); then accept_phase_p99_max=… delivery_phase_p99_max=…,
# the phase of each path with the largest p99 in the paced run (recovery_gateway_accept_phase_seconds
# and …_delivery_phase_seconds scraped before and after it; every phase's p50/p99 is in the block).
#
#   benchmarks/e2e.sh [REQUESTS=3000] [CLIENTS=32]
#
# Environment: E2E_SMTP_CONNECTIONS (smtp.connections, default 8), E2E_WORKERS (delivery.workers,
# default 32), E2E_NAIVE (emails the naive script sends, default 300), E2E_LOG_LEVEL (default info),
# E2E_SPLIT=1 stops smtp-sink (SIGSTOP) until every request is answered, so that the accept path
# runs alone and the delivery drain is timed after it (a diagnostic: end-to-end is then not the goal's).
# E2E_STORE_DIR=DIR puts the SQLite file in DIR (e.g. /dev/shm, to see what fsync costs).
# E2E_WRK_SECONDS (each wrk run, default 15), E2E_PACED_RATE (default 200).
# E2E_KEEP=1 keeps the work directory (logs, SQLite file) for inspection; E2E_PERF=FILE records the
# gateway with `perf record -g` during the burst into FILE.
# The benchmark config turns the per-identity cooldown off (delivery.cooldown: 0s) and lifts the
# per-key rate limit (rate_per_key/burst_per_key 1000000); everything else is the shipped default.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-3000}
clients=${2:-32}
connections=${E2E_SMTP_CONNECTIONS:-8}
workers=${E2E_WORKERS:-32}
naive_count=${E2E_NAIVE:-300}
log_level=${E2E_LOG_LEVEL:-info}

export BENCH_CONNECTIONS=$connections BENCH_WORKERS=$workers BENCH_LOG_LEVEL=$log_level BENCH_KEEP=${E2E_KEEP:-0}
# shellcheck source=benchmarks/lib.sh
. benchmarks/lib.sh
bench_begin e2e

# The machine may be shared: the load average before anything starts goes into the figures.
load_average=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the Kratos stand-in and the two SMTP servers -----------------------------------------------
start_standin
start_sink

# A mail catcher that keeps what it gets, for one probe email: its size is smtp-source's -l.
"$py" scripts/smtp_server.py --port 0 --maildir "$work/probe-mail" --ready-file "$work/probe.port" \
    >"$work/probe-smtp.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/probe.port" ] && break; sleep 0.1; done
[ -s "$work/probe.port" ] || fail "the probe SMTP server did not start: $(cat "$work/probe-smtp.log")"

"$py" benchmarks/e2e/load.py identities --standin "$standin" --count "$requests" --out "$work/identities"

# --- the gateway -----------------------------------------------------------------------------------
store_dir=${E2E_STORE_DIR:-$work}
if [ "$store_dir" != "$work" ]; then
    store_dir=$(mktemp -d "$store_dir/e2e-store.XXXXXX")
    remove_store_dir() { rm -rf "$store_dir"; }
    cleanup_hooks+=(remove_store_dir)
fi

# The disk's own fdatasync latency where the SQLite file lives: no durable commit can beat it.
read -r fsync_p50 fsync_p99 < <(fsync_latency "$store_dir")

# Probe: one email through the whole chain to the catcher, waited for; it must arrive sent.
start_gateway probe "$(cat "$work/probe.port")" "sqlite://$store_dir/probe.sqlite"
probe=$(curl -sS -X POST "$gateway_url/v1/recovery-emails" -H "Authorization: Bearer $api_key" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: probe-1" -H 'Prefer: wait=10' \
    -d "{\"identity_id\":\"$(head -n1 "$work/identities")\"}")
grep -q '"status":"sent"' <<<"$probe" || fail "the probe email was not sent: $probe"
message_bytes=$(wc -c <"$work/probe-mail/000001.eml")
stop_gateway "$gateway_pid"

# The run: a fresh database, the sink, a short warm-up, then the burst.
start_gateway main "$sink_port" "sqlite://$store_dir/main.sqlite"
export E2E_API_KEY=$api_key
"$py" benchmarks/e2e/load.py burst --gateway "$gateway_url" --identities "$work/identities" \
    --requests 64 --clients "$clients" --sink-counter "$work/sink.counters" --timeout 30 >"$work/warmup.json"
sleep 1
rss_before=$(ps -o rss= -p "$gateway_pid" | tr -d ' ')
# Most of the RSS is mapped code (the binary, the Swift and Foundation libraries): the anonymous part is the heap.
rss_anon_before=$(awk '/^RssAnon:/ {print $2}' "/proc/$gateway_pid/status")
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
rss_anon_after=$(awk '/^RssAnon:/ {print $2}' "/proc/$gateway_pid/status")
cpu_standin=$(python3 -c "print(round($(cpu_seconds "$standin_pid") - $cpu_standin, 2))")
cpu_sink=$(python3 -c "print(round($(cpu_seconds "$sink_pid") - $cpu_sink, 2))")
if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
unset E2E_API_KEY
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

# --- accept latency paced, then the accept ceiling, with wrk ----------------------------------------
wrk_seconds=${E2E_WRK_SECONDS:-15}
paced_rate=${E2E_PACED_RATE:-200}
run_id=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
wrk_run() { # NAME DELAY_MS: runs wrk, waits until the sink has every email it accepted
    local before accepted
    before=$(sink_messages)
    date +%s%6N >"$work/wrk-$1.from"
    E2E_API_KEY=$api_key E2E_IDENTITIES=$work/identities E2E_RUN="$run_id-$1" E2E_DELAY_MS=$2 \
        wrk -t2 -c"$clients" -d"${wrk_seconds}s" -s benchmarks/e2e/accept.lua "$gateway_url/v1/recovery-emails" \
        >"$work/wrk-$1.txt"
    accepted=$(awk '/^ACCEPTED / {print $2}' "$work/wrk-$1.txt")
    [ "$(awk '/^OTHER / {print $2}' "$work/wrk-$1.txt")" = 0 ] || fail "wrk $1: not every request was accepted: $(cat "$work/wrk-$1.txt")"
    date +%s%6N >"$work/wrk-$1.until"
    wait_for_sink $((before + accepted)) 180
}
# Accept to sent, per delivery accepted during wrk run NAME: "p50 p99" in ms, from the store's own
# times (created_at_us when the 202 was decided, sent_at_us when the SMTP server's 250 came back).
deliver_latency() {
    "$py" - "$store_dir/main.sqlite" "$(cat "$work/wrk-$1.from")" "$(cat "$work/wrk-$1.until")" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute(
    "SELECT sent_at_us - created_at_us FROM deliveries WHERE status = 'sent' AND created_at_us BETWEEN ? AND ?"
    " ORDER BY 1", (int(sys.argv[2]), int(sys.argv[3]))).fetchall()
ms = [r[0] / 1000 for r in rows]
quantile = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
print(f"{quantile(0.5):.1f} {quantile(0.99):.1f} {len(ms)}" if ms else "None None 0")
PY
}
wrk_figure() { awk -v key="$2" '$1 == key {print $2}' "$work/wrk-$1.txt"; }
# Where the paced run's time went, per phase: /metrics scraped before and after it; the phases'
# p50/p99 are read off the difference of the histograms' buckets, interpolated within a bucket
# (benchmarks/e2e/phases.py), so they are as fine as the buckets, not exact.
curl -sf "$gateway_url/metrics" >"$work/metrics-paced.before"
wrk_run paced $((clients * 1000 / paced_rate))
curl -sf "$gateway_url/metrics" >"$work/metrics-paced.after"
read -r deliver_p50 deliver_p99 deliver_count <<<"$(deliver_latency paced)"
"$py" benchmarks/e2e/phases.py "$work/metrics-paced.before" "$work/metrics-paced.after" >"$work/phases-paced.txt"
phase_worst=$(tail -n1 "$work/phases-paced.txt")
wrk_run flat 0
failed=$(curl -sf "$gateway_url/v1/recovery-emails?status=failed&limit=5" -H "Authorization: Bearer $api_key")

# --- the figures -----------------------------------------------------------------------------------
emails_rate=$(field emails_per_second)
p99=$(field accept_p99_ms)
ratio_naive=$(python3 -c "print(f'{$emails_rate / $naive_rate:.1f}')" 2>/dev/null || echo n/a)
ratio_source=$(python3 -c "print(f'{$emails_rate / $source_rate:.2f}')" 2>/dev/null || echo n/a)
verdict() { python3 -c "print('met' if $1 else 'MISSED')" 2>/dev/null || echo MISSED; }
echo
echo "== recovery-gateway end-to-end, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $load_average at the start"
echo "   config: SQLite in $(df --output=fstype "$store_dir" | tail -n1) ($store_dir), store pragmas as shipped"
echo "   disk:   fdatasync of 4 KB p50 / p99 $fsync_p50 / $fsync_p99 ms (each 202 waits for one; a queued one for two)"
echo "           smtp.connections=$connections, delivery.workers=$workers, logging.level=$log_level,"
echo "           delivery.cooldown=0s, rate_per_key=burst_per_key=1000000 (benchmark only)"
[ "${E2E_SPLIT:-0}" = 1 ] && echo "   SPLIT:  smtp-sink was stopped until the last answer (accept path alone, then the drain)"
echo "   load:   $requests POST /v1/recovery-emails from $clients keep-alive clients (Python asyncio),"
echo "           unique Idempotency-Key and identity each; after a 64-request warm-up"
echo "   answers:                     $(field statuses)  (client CPU $(field client_cpu_seconds) s)"
echo "   accepted/s:                  $(field accepted_per_second)  ($(field accepted) in $(field accept_seconds) s)"
echo "   accept p50 / p99 (flat out): $(field accept_p50_ms) ms / $p99 ms  (max $(field accept_max_ms) ms)"
echo "   end-to-end emails/s:         $emails_rate  (first request until smtp-sink counted all $(field accepted): $(field e2e_seconds) s)"
echo "   smtp-source -d -s $connections:         $source_rate emails/s  ($requests x $message_bytes bytes, the gateway's message size)"
echo "   naive script:                $naive_rate emails/s  ($naive_count, one by one, one kept-open SMTP connection)"
echo "   after the last answer:       $(field drain_seconds) s until the sink had all"
echo "   gateway CPU:                 $(field gateway_cpu_accept_seconds) s until the last answer, $(field gateway_cpu_drain_seconds) s after"
echo "   other CPU in the burst:      stand-in $cpu_standin s, smtp-sink $cpu_sink s"
echo "   gateway RSS:                 $((rss_before / 1024)) MB idle after the warm-up, $((rss_after / 1024)) MB after the burst"
echo "   of which anonymous (heap):   $((rss_anon_before / 1024)) MB, $((rss_anon_after / 1024)) MB (the rest is mapped code and data files)"
echo "   wrk paced, $paced_rate req/s offered: $(wrk_figure paced ACCEPTED_PER_SECOND) accepted/s, accept p50 / p99 $(wrk_figure paced P50_MS) / $(wrk_figure paced P99_MS) ms  ($clients connections, ${wrk_seconds} s, deliveries beside)"
echo "   accept to sent (wrk paced):  p50 / p99 $deliver_p50 / $deliver_p99 ms  ($deliver_count deliveries; the store's created_at to sent_at)"
echo "   phases (wrk paced; p50 / p99 ms from the histograms' buckets, interpolated; count):"
while read -r path phase count p50 p99; do
    printf '     %-8s %-18s %8s / %8s  (%s)\n' "$path" "$phase" "$p50" "$p99" "$count"
done < <(head -n -1 "$work/phases-paced.txt")
echo "   largest phase p99 (wrk paced): $phase_worst"
echo "   wrk flat out:                $(wrk_figure flat ACCEPTED_PER_SECOND) accepted/s, accept p50 / p99 $(wrk_figure flat P50_MS) / $(wrk_figure flat P99_MS) ms"
echo "   ratios: end-to-end / naive = $ratio_naive (goal >= 5: $(verdict "$ratio_naive >= 5")), end-to-end >= 1000/s: $(verdict "$emails_rate >= 1000"),"
echo "           end-to-end / smtp-source = $ratio_source (goal >= 0.15: $(verdict "$ratio_source >= 0.15"))"
echo "   goals:  accept p99 < 5 ms (wrk paced): $(verdict "$(wrk_figure paced P99_MS) < 5"); RSS after burst < 150 MB: $(verdict "$rss_after < 150 * 1024")"
echo "           accept to sent p99 <= 20 ms (wrk paced, issue 28): $(verdict "$deliver_p99 <= 20")"
grep -q '"items":\[\]' <<<"$failed" || fail "some deliveries failed: $failed"
[ "$(field e2e_seconds)" != None ] || fail "smtp-sink did not count every accepted email within 120 s"
[ "$(field accepted)" = "$requests" ] || fail "not every request was accepted: $(field statuses)"
cpu_ms=$(python3 -c "print(f'{($(field gateway_cpu_accept_seconds) + $(field gateway_cpu_drain_seconds)) * 1000 / $requests:.2f}')")
echo "   goals (issue 13): CPU per email <= 0.6 ms: $(verdict "$cpu_ms <= 0.6"); accepts/s flat out >= 3000: $(verdict "$(wrk_figure flat ACCEPTED_PER_SECOND) >= 3000"); idle RSS <= 40 MB: $(verdict "$rss_before <= 40 * 1024")"
echo "e2e_per_s=$emails_rate naive_per_s=$naive_rate ratio_naive=$ratio_naive cpu_ms_per_email=$cpu_ms" \
    "accept_p99_ms=$(wrk_figure paced P99_MS) accepts_per_s_max=$(wrk_figure flat ACCEPTED_PER_SECOND)" \
    "rss_idle_mb=$(python3 -c "print(round($rss_before / 1024, 1))") rss_after_mb=$(python3 -c "print(round($rss_after / 1024, 1))")" \
    "fsync_p99_ms=$fsync_p99 deliver_p99_ms=$deliver_p99 $phase_worst"

#!/usr/bin/env bash
# Instructions per email (issue 13): the release gateway on SQLite runs under valgrind's callgrind,
# which counts every instruction it executes, in every thread. Unlike CPU seconds, the count barely
# moves from run to run and does not depend on what else the machine is doing, so it shows what a
# change to the hot path saved. Same set-up as e2e.sh (the Kratos stand-in, smtp-sink, the shipped
# defaults with the cooldown off), a warm-up of 32 emails, then, with the counters zeroed before each:
#   1. REFERENCE GET /health/alive from one keep-alive connection: what any request through the
#      HTTP server costs, the reference an email is compared with;
#   2. EMAILS POST /v1/recovery-emails from CLIENTS connections, until smtp-sink has counted every
#      email: all one email costs the gateway (accept, Kratos calls, template, SMTP, outcome, audit).
# One block of figures, and as the last line:
#   instructions_per_email=… instructions_per_health_request=… ratio_email_to_health=…
#
#   benchmarks/instructions.sh [EMAILS=300] [CLIENTS=8]
#
# Environment: INSTRUCTIONS_REFERENCE (health requests, default 1000); BENCH_GATEWAY_BIN=FILE measures
# that binary instead (to compare two builds); INSTRUCTIONS_KEEP=1 keeps the work directory with
# callgrind's files (read them with callgrind_annotate: its self cost of a thread's entry point, such
# as an event loop thread's, holds work callgrind could not place in a function).
set -euo pipefail
cd "$(dirname "$0")/.."
emails=${1:-300}
clients=${2:-8}
reference=${INSTRUCTIONS_REFERENCE:-1000}

export BENCH_KEEP=${INSTRUCTIONS_KEEP:-0}
# shellcheck source=benchmarks/lib.sh
. benchmarks/lib.sh
bench_begin_with_servers instructions "$emails"

# valgrind cannot read lld's debug information: it runs a copy without it (the symbols stay). Under
# callgrind the gateway runs some fifty times slower, on one core: its timeouts are far above that.
strip --strip-debug -o "$work/recovery-gateway" "${BENCH_GATEWAY_BIN:-$bin/recovery-gateway}"
cat >"$work/callgrind.sh" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$work/recovery-gateway" "\$@"
EOF
chmod +x "$work/callgrind.sh"
BENCH_GATEWAY_BIN=$work/callgrind.sh BENCH_READY_TRIES=2400 start_gateway main "$sink_port" "sqlite://$work/main.sqlite"

export E2E_API_KEY=$api_key
burst() { # REQUESTS
    "$py" benchmarks/e2e/load.py burst --gateway "$gateway_url" --identities "$work/identities" \
        --requests "$1" --clients "$clients" --sink-counter "$work/sink.counters" --timeout 900
}
health_requests() {
    "$py" - "$gateway_url" "$reference" <<'EOF'
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
for _ in range(int(sys.argv[2])):
    connection.request("GET", "/health/alive")
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200, answer.status
EOF
}
email_burst() { burst "$emails" >"$work/burst.json"; }
# Zeroes the counters, runs the phase, dumps them: prints the instructions the phase executed.
measured() { # PHASE FUNCTION
    callgrind_control --zero "$gateway_pid" >/dev/null
    "$2"
    callgrind_control --dump="$1" "$gateway_pid" >/dev/null
    # shellcheck disable=SC2012  # callgrind.out.PID.N: no odd characters in the names
    mv "$(ls -t "$work"/callgrind.out.* | head -n1)" "$work/$1.callgrind"
    awk '/^(summary|totals):/ { print $2; exit }' "$work/$1.callgrind"
}

# What the gateway executes when idle (its pollers and timers: about 1.5 M instructions a second under
# callgrind) grows with the time a phase takes, which depends on the machine. The health phase is
# followed by an idle stretch as long as it took, measured the same way, and its figure is net of it:
# that makes it repeat to 0.1 % (0.7 % with the load average tripled; the guard allows 3 %). The email phase
# is not corrected: while deliveries run, the pollers mostly wait on them (about a quarter of the
# idle rate was left), so its figure moves about 1 % per extra 30 s the phase takes on a busy machine.
idle_seconds=0
idle() { sleep "$idle_seconds"; }
# Prints a phase's instructions less those of as long a stretch idle.
measured_net() { # PHASE FUNCTION
    local started total
    started=$(now)
    total=$(measured "$1" "$2")
    idle_seconds=$(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
    echo "$1: $total instructions in $idle_seconds s; idle as long: $(measured "$1-idle" idle)" >>"$work/phases"
    echo $((total - $(awk '/^(summary|totals):/ { print $2; exit }' "$work/$1-idle.callgrind")))
}

burst 32 >"$work/warmup.json"
sleep 2 # the warm-up's last outcomes recorded
health_total=$(measured_net health health_requests)
email_total=$(measured emails email_burst)
unset E2E_API_KEY
field() { "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/burst.json" "$1"; }
[ "$(field accepted)" = "$emails" ] || fail "not every request was accepted: $(field statuses)"
[ "$(field e2e_seconds)" != None ] || fail "smtp-sink did not count every accepted email"

per_email=$((email_total / emails))
per_health=$((health_total / reference))
echo
echo "== recovery-gateway instructions (callgrind), $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $load_average at the start"
echo "   $emails emails from $clients clients end to end on SQLite (shipped defaults, cooldown off); reference: $reference GET /health/alive"
echo "   per email:          $per_email instructions (all threads: accept, Kratos calls, template, SMTP, outcome, audit)"
echo "   per health request: $per_health instructions"
echo "   an email costs as much as $((per_email / per_health)) health requests"
echo "   (the health figure net of the idle instructions of as long a stretch: $(cat "$work/phases"))"
echo "instructions_per_email=$per_email instructions_per_health_request=$per_health ratio_email_to_health=$((per_email / per_health))"

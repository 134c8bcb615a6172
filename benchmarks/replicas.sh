#!/usr/bin/env bash
# Replica benchmark (issue 7): end-to-end emails/s of ONE gateway and of TWO gateways on the same
# PostgreSQL, under the same load, in the same run, and their ratio. Release build, a PostgreSQL
# cluster of its own (scripts/postgres.sh), the Kratos stand-in and postfix's smtp-sink. Each phase
# gets a fresh database; REQUESTS POST /v1/recovery-emails come from CLIENTS keep-alive connections
# spread over the phase's gateways in turn (a round-robin load balancer), each with its own
# Idempotency-Key and identity; a phase ends when smtp-sink has counted every accepted email.
# The CPU every process used in each phase is printed too: on one machine the replicas, PostgreSQL,
# the stand-in, the sink and the load generator share its cores.
#
# The last line is a summary: one_per_s=… two_per_s=… ratio=… pg_cpu_ms_per_email=… gateway_cpu_ms_per_email=…
# (the CPU figures of the one-gateway phase: PostgreSQL's and the gateway's user+system CPU ÷ its emails).
#
#   benchmarks/replicas.sh [REQUESTS=3000] [CLIENTS=32]
#
# Environment: BENCH_CONNECTIONS (smtp.connections per gateway, 8), BENCH_WORKERS (delivery.workers
# per gateway, 32), BENCH_LOG_LEVEL (info), BENCH_KEEP=1 keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-3000}
clients=${2:-32}

# shellcheck source=benchmarks/lib.sh
. benchmarks/lib.sh
bench_begin replicas
load_average=$(cut -d' ' -f1-3 /proc/loadavg)

# Its own directory: the cluster runs as the `postgres` user, who cannot enter root's 0700 $work.
postgres_dir=$(mktemp -d /tmp/replicas-postgres.XXXXXX)
stop_postgres() { scripts/postgres.sh stop "$postgres_dir" >/dev/null; rm -rf "$postgres_dir"; }
cleanup_hooks+=(stop_postgres)
postgres_url=$(scripts/postgres.sh start "$postgres_dir")
# CPU seconds of the whole PostgreSQL cluster: the postmaster and every backend it forked.
postgres_cpu() {
    local main total=0 pid
    main=$(head -n1 "$postgres_dir/data/postmaster.pid")
    for pid in $main $(pgrep -P "$main"); do
        total=$(python3 -c "print($total + $(cpu_seconds "$pid" 2>/dev/null || echo 0))")
    done
    echo "$total"
}
start_standin
start_sink
"$py" benchmarks/e2e/load.py identities --standin "$standin" --count "$requests" --out "$work/identities"
export E2E_API_KEY=$api_key

# One phase: COUNT gateways on a fresh database; the figures go to $work/phaseCOUNT.json.
phase() {
    local count=$1 database="bench_$1" urls=() gateway_pids=() n before_pg before_standin before_sink
    psql -q "$postgres_url" -c "CREATE DATABASE $database"
    local store_url
    store_url=$(python3 -c "import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(path='/$database').geturl())" "$postgres_url")
    for n in $(seq "$count"); do
        start_gateway "phase$count-gateway$n" "$sink_port" "$store_url"
        urls+=(--gateway "$gateway_url")
        gateway_pids+=(--gateway-pid "$gateway_pid")
    done
    "$py" benchmarks/e2e/load.py burst "${urls[@]}" --identities "$work/identities" \
        --requests 64 --clients "$clients" --sink-counter "$work/sink.counters" --timeout 30 >/dev/null
    before_pg=$(postgres_cpu)
    before_standin=$(cpu_seconds "$standin_pid")
    before_sink=$(cpu_seconds "$sink_pid")
    "$py" benchmarks/e2e/load.py burst "${urls[@]}" --identities "$work/identities" \
        --requests "$requests" --clients "$clients" --sink-counter "$work/sink.counters" --timeout 300 \
        "${gateway_pids[@]}" >"$work/phase$count.json"
    python3 - "$work/phase$count.json" "$(postgres_cpu)" "$before_pg" "$(cpu_seconds "$standin_pid")" \
        "$before_standin" "$(cpu_seconds "$sink_pid")" "$before_sink" <<'EOF'
import json, sys
path, pg, pg0, standin, standin0, sink, sink0 = sys.argv[1], *map(float, sys.argv[2:])
figures = json.load(open(path))
figures.update(postgres_cpu_seconds=round(pg - pg0, 2), standin_cpu_seconds=round(standin - standin0, 2),
               sink_cpu_seconds=round(sink - sink0, 2))
json.dump(figures, open(path, "w"))
EOF
    for n in $(seq "$count"); do
        stop_gateway "${gateway_pids[$((2 * n - 1))]}"
    done
    local accepted
    accepted=$("$py" -c "import json; print(json.load(open('$work/phase$count.json'))['accepted'])")
    [ "$accepted" = "$requests" ] || fail "phase $count: not every request was accepted: $(cat "$work/phase$count.json")"
}

phase 1
phase 2

"$py" - "$work/phase1.json" "$work/phase2.json" "$requests" "$clients" "$load_average" <<'EOF'
import json, os, sys
one, two = (json.load(open(path)) for path in sys.argv[1:3])
requests, clients, load = sys.argv[3], sys.argv[4], sys.argv[5]
cores = os.cpu_count()
print(f"\n== recovery-gateway replicas on one PostgreSQL, {cores} cores, load average {load} at the start")
print(f"   load: {requests} POST /v1/recovery-emails from {clients} keep-alive clients per phase, spread over the gateways")
for name, f in (("one gateway", one), ("two gateways", two)):
    if f["e2e_seconds"] is None:
        sys.exit(f"{name}: smtp-sink did not count every accepted email in time: {f}")
    busy = (f["gateway_cpu_accept_seconds"] + f["gateway_cpu_drain_seconds"] + f["postgres_cpu_seconds"]
            + f["standin_cpu_seconds"] + f["sink_cpu_seconds"] + f["client_cpu_seconds"])
    print(f"   {name + ':':14} {f['emails_per_second']:8.1f} emails/s end to end ({f['accepted']} in {f['e2e_seconds']} s),"
          f" accept p50/p99 {f['accept_p50_ms']}/{f['accept_p99_ms']} ms")
    print(f"   {'':14} CPU s: gateways {f['gateway_cpu_accept_seconds'] + f['gateway_cpu_drain_seconds']:.1f},"
          f" postgres {f['postgres_cpu_seconds']}, stand-in {f['standin_cpu_seconds']}, sink {f['sink_cpu_seconds']},"
          f" load client {f['client_cpu_seconds']} = {busy / (f['e2e_seconds'] * cores):.0%} of {cores} cores")
ratio = two["emails_per_second"] / one["emails_per_second"]
print(f"   ratio two / one = {ratio:.2f} (goal >= 1.6: {'met' if ratio >= 1.6 else 'MISSED'})")
per_email = lambda seconds: f"{seconds * 1000 / one['accepted']:.2f}"
print(f"one_per_s={one['emails_per_second']} two_per_s={two['emails_per_second']} ratio={ratio:.2f}"
      f" pg_cpu_ms_per_email={per_email(one['postgres_cpu_seconds'])}"
      f" gateway_cpu_ms_per_email={per_email(one['gateway_cpu_accept_seconds'] + one['gateway_cpu_drain_seconds'])}")
EOF

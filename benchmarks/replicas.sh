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
# Before it, the ceiling of group commit (issue 13): every appending transaction of every replica holds the
# audit head's row lock from its grant to the end of its commit, so batches/s <= 1 ÷ that hold. Each
# gateway logs, when it stops, its group commits (batches, units) and the mean hold per batch; with the
# units one email takes (accept + outcome) and PostgreSQL's committed transactions (pg_stat_database
# xact_commit) of the same phase, the script prints emails/s <= (1 s ÷ hold) × units per batch ÷ units per
# email: the bound when the database has its own machine and the gateways are added until the head is busy.
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
# Transactions committed in DATABASE so far (the statistics collector's figure, after its next flush).
xact_commits() {
    sleep 1
    psql -qtA "$postgres_url" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'"
}
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
    local before_commits
    before_commits=$(xact_commits "$database")
    before_standin=$(cpu_seconds "$standin_pid")
    before_sink=$(cpu_seconds "$sink_pid")
    "$py" benchmarks/e2e/load.py burst "${urls[@]}" --identities "$work/identities" \
        --requests "$requests" --clients "$clients" --sink-counter "$work/sink.counters" --timeout 300 \
        "${gateway_pids[@]}" >"$work/phase$count.json"
    python3 - "$work/phase$count.json" "$(postgres_cpu)" "$before_pg" "$(cpu_seconds "$standin_pid")" \
        "$before_standin" "$(cpu_seconds "$sink_pid")" "$before_sink" "$(xact_commits "$database")" \
        "$before_commits" <<'EOF'
import json, sys
path, pg, pg0, standin, standin0, sink, sink0, commits, commits0 = sys.argv[1], *map(float, sys.argv[2:])
figures = json.load(open(path))
figures.update(postgres_cpu_seconds=round(pg - pg0, 2), standin_cpu_seconds=round(standin - standin0, 2),
               sink_cpu_seconds=round(sink - sink0, 2), postgres_commits=int(commits - commits0))
json.dump(figures, open(path, "w"))
EOF
    for n in $(seq "$count"); do
        stop_gateway "${gateway_pids[$((2 * n - 1))]}"
    done
    # Each gateway's group commits over its whole run (warm-up included), logged when it stopped.
    python3 - "$work/phase$count.json" "$work"/phase"$count"-gateway*.log <<'EOF'
import json, sys
path, logs = sys.argv[1], sys.argv[2:]
batches = units = 0
held_us = 0.0
for log in logs:
    for line in open(log):
        if '"group commits"' not in line:
            continue
        fields = json.loads(line)
        batches += int(fields["batches"])
        units += int(fields["units"])
        held_us += float(fields["audit_head_held_us_per_batch"]) * int(fields["audit_head_batches"])
figures = json.load(open(path))
figures.update(group_batches=batches, group_units=units, head_held_us_per_batch=held_us / batches if batches else None)
json.dump(figures, open(path, "w"))
EOF
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
for name, f in (("one gateway", one), ("two gateways", two)):
    if not f.get("head_held_us_per_batch"):
        print(f"   {name}: no group commit figures in the gateways' logs")
        continue
    emails = f["accepted"] + 64  # the warm-up's 64 are in the gateways' counters too
    per_batch, per_email = f["group_units"] / f["group_batches"], f["group_units"] / emails
    held_ms = f["head_held_us_per_batch"] / 1000
    ceiling = 1000 / held_ms * per_batch / per_email
    print(f"   {name + ':':14} {f['group_batches']} group commits for {f['group_units']} writes ({per_batch:.1f} per batch,"
          f" {per_email:.2f} per email); PostgreSQL commits per email {f['postgres_commits'] / f['accepted']:.2f};"
          f" audit head held {held_ms:.2f} ms per batch")
    print(f"   {'':14} ceiling, database on its own machine: 1000 / {held_ms:.2f} ms x {per_batch:.1f} / {per_email:.2f}"
          f" = {ceiling:,.0f} emails/s at these batch sizes (the hold includes the commit's flush and two round"
          f" trips on this machine; a network adds its round trips, larger batches under more load raise it)")
per_email = lambda seconds: f"{seconds * 1000 / one['accepted']:.2f}"
print(f"one_per_s={one['emails_per_second']} two_per_s={two['emails_per_second']} ratio={ratio:.2f}"
      f" pg_cpu_ms_per_email={per_email(one['postgres_cpu_seconds'])}"
      f" gateway_cpu_ms_per_email={per_email(one['gateway_cpu_accept_seconds'] + one['gateway_cpu_drain_seconds'])}")
EOF

#!/usr/bin/env bash
# Replica benchmark (issues 7 and 29): end-to-end emails/s of ONE, TWO and FOUR gateways on the same
# PostgreSQL, under the same load, in the same run. Release build, a PostgreSQL cluster of its own
# (scripts/postgres.sh), the Kratos stand-in and postfix's smtp-sink. Each phase gets a fresh
# database; REQUESTS POST /v1/recovery-emails come from CLIENTS keep-alive connections spread over
# the phase's gateways in turn (a round-robin load balancer), each with its own Idempotency-Key and
# identity; a phase ends when smtp-sink has counted every accepted email. The CPU every process used
# in each phase is printed too: on one machine the replicas, PostgreSQL, the stand-in, the sink and
# the load generator share its cores.
#
# The shared lock (issue 29). Requests write their audit events unlinked into `audit_intake`; no row
# that every replica shares is locked on the request path, so no shared lock should set a ceiling on
# accepts. The samples below check it: `ceiling_...=none` when no request waited on a lock in any
# sample, else the phase's rate divided by the share of samples with a wait (the rate at which that
# lock would always be taken). What is shared is the sequencer's: one round at a time across the replicas
# holds the audit head from its lock to its commit, off the request path. Per phase the script prints
# - the sequencer's rounds, events per round and the head's hold per round (each gateway logs them
#   when it stops), and the rate it could seal at that round size (1 s / hold x events per round);
# - lock waits read from PostgreSQL: pg_stat_activity sampled every 100 ms during the burst, each
#   backend waiting on a heavyweight lock counted as the request path's or the sequencer's (by its
#   query).
#
# The last line is a summary: one_per_s=... two_per_s=... four_per_s=... ratio_two=... ratio_four=...
# pg_cpu_ms_per_email=... gateway_cpu_ms_per_email=... sequencer_one_per_s=... sequencer_two_per_s=...
# sequencer_four_per_s=... ceiling_one_per_s=... ceiling_two_per_s=... ceiling_four_per_s=...
# (the CPU figures of the one-gateway phase: PostgreSQL's and the gateway's user+system CPU / its emails).
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
    # Lock waits during the burst: every 100 ms, the backends of this database waiting on a lock, by
    # whose, and each one's wait event and statement (to name the lock), one line a sample.
    # (\watch repeats the query buffer, which only a query read from standard input leaves filled.)
    psql -qtA -F '|' "$store_url" >"$work/locks$count.txt" 2>/dev/null <<EOF &
SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND query !~ '(AS elected|audit_head)'),
       count(*) FILTER (WHERE wait_event_type = 'Lock' AND query ~ '(AS elected|audit_head)'),
       coalesce(string_agg(wait_event || ' ' || left(regexp_replace(query, '\s+', ' ', 'g'), 90), ' ;; ')
           FILTER (WHERE wait_event_type = 'Lock'), '')
FROM pg_stat_activity WHERE datname = '$database' AND pid <> pg_backend_pid() \watch 0.1
EOF
    local sampler=$!
    "$py" benchmarks/e2e/load.py burst "${urls[@]}" --identities "$work/identities" \
        --requests "$requests" --clients "$clients" --sink-counter "$work/sink.counters" --timeout 300 \
        "${gateway_pids[@]}" >"$work/phase$count.json"
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
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
    # Each gateway's group commits and sequencer rounds over its whole run (warm-up included),
    # logged when it stopped; the lock samples of the burst.
    python3 - "$work/phase$count.json" "$work/locks$count.txt" "$work"/phase"$count"-gateway*.log <<'EOF'
import collections, json, sys
path, locks, logs = sys.argv[1], sys.argv[2], sys.argv[3:]
batches = units = rounds = sequenced = 0
held_us = 0.0
for log in logs:
    for line in open(log):
        if '"group commits"' not in line:
            continue
        fields = json.loads(line)
        batches += int(fields["batches"])
        units += int(fields["units"])
        rounds += int(fields["sequencer_rounds"])
        sequenced += int(fields["sequenced_events"])
        held_us += float(fields["sequencer_head_held_us_per_round"]) * int(fields["sequencer_rounds"])
samples = [line.rstrip("\n").split("|", 2) for line in open(locks) if line.split("|")[0].isdigit()]
statements = collections.Counter(w for s in samples for w in s[2].split(" ;; ") if w)
samples = [(int(s[0]), int(s[1])) for s in samples]
figures = json.load(open(path))
figures.update(group_batches=batches, group_units=units, sequencer_rounds=rounds, sequenced_events=sequenced,
               head_held_us_per_round=held_us / rounds if rounds else None, lock_samples=len(samples),
               request_lock_waits=sum(s[0] for s in samples), sequencer_lock_waits=sum(s[1] for s in samples),
               request_lock_wait_samples=sum(1 for s in samples if s[0] > 0),
               lock_statements=dict(statements.most_common(4)))
json.dump(figures, open(path, "w"))
EOF
    local accepted
    accepted=$("$py" -c "import json; print(json.load(open('$work/phase$count.json'))['accepted'])")
    [ "$accepted" = "$requests" ] || fail "phase $count: not every request was accepted: $(cat "$work/phase$count.json")"
}

phase 1
phase 2
phase 4

"$py" - "$work/phase1.json" "$work/phase2.json" "$work/phase4.json" "$requests" "$clients" "$load_average" <<'EOF'
import json, os, sys
one, two, four = (json.load(open(path)) for path in sys.argv[1:4])
requests, clients, load = sys.argv[4], sys.argv[5], sys.argv[6]
cores = os.cpu_count()
phases = (("one", "one gateway", one), ("two", "two gateways", two), ("four", "four gateways", four))
print(f"\n== recovery-gateway replicas on one PostgreSQL, {cores} cores, load average {load} at the start")
print(f"   load: {requests} POST /v1/recovery-emails from {clients} keep-alive clients per phase, spread over the gateways")
for _, name, f in phases:
    if f["e2e_seconds"] is None:
        sys.exit(f"{name}: smtp-sink did not count every accepted email in time: {f}")
    busy = (f["gateway_cpu_accept_seconds"] + f["gateway_cpu_drain_seconds"] + f["postgres_cpu_seconds"]
            + f["standin_cpu_seconds"] + f["sink_cpu_seconds"] + f["client_cpu_seconds"])
    print(f"   {name + ':':15} {f['emails_per_second']:8.1f} emails/s end to end ({f['accepted']} in {f['e2e_seconds']} s),"
          f" accept p50/p99 {f['accept_p50_ms']}/{f['accept_p99_ms']} ms")
    print(f"   {'':15} CPU s: gateways {f['gateway_cpu_accept_seconds'] + f['gateway_cpu_drain_seconds']:.1f},"
          f" postgres {f['postgres_cpu_seconds']}, stand-in {f['standin_cpu_seconds']}, sink {f['sink_cpu_seconds']},"
          f" load client {f['client_cpu_seconds']} = {busy / (f['e2e_seconds'] * cores):.0%} of {cores} cores")
ceilings, sequencers = {}, {}
for key, name, f in phases:
    emails = f["accepted"] + 64  # the warm-up's 64 are in the gateways' counters too
    per_batch = f["group_units"] / f["group_batches"] if f["group_batches"] else 0
    print(f"   {name + ':':15} {f['group_batches']} group commits for {f['group_units']} writes ({per_batch:.1f} per batch);"
          f" PostgreSQL commits per email {f['postgres_commits'] / f['accepted']:.2f}")
    print(f"   {'':15} lock waits sampled {f['lock_samples']}x: request path {f['request_lock_waits']} backend-samples"
          f" ({f['request_lock_wait_samples']} samples with any), sequencer and readers {f['sequencer_lock_waits']}")
    for what, seen in f["lock_statements"].items():
        print(f"   {'':15} waited {seen}x: {what}")
    if f["request_lock_wait_samples"] == 0:
        ceilings[key] = "none"
        print(f"   {'':15} ceiling: none; no request waited on a lock in any sample (its audit events go to"
              " audit_intake unlinked; no row that every replica shares is locked on the request path)")
    else:
        # A lock busy in this share of the samples saturates when the rate grows by its inverse.
        busy_share = f["request_lock_wait_samples"] / f["lock_samples"]
        ceilings[key] = f"{f['emails_per_second'] / busy_share:.0f}"
        print(f"   {'':15} ceiling: requests waited on a lock in {busy_share:.0%} of the samples:"
              f" {f['emails_per_second']:.0f} / {busy_share:.2f} = {ceilings[key]} emails/s when it is always taken")
    if f["sequencer_rounds"]:
        held_ms = f["head_held_us_per_round"] / 1000
        per_round = f["sequenced_events"] / f["sequencer_rounds"]
        rate = 1000 / held_ms * per_round / (f["sequenced_events"] / emails)
        sequencers[key] = f"{rate:.0f}"
        print(f"   {'':15} sequencer (off the request path): {f['sequencer_rounds']} rounds, {per_round:.1f} events per"
              f" round, audit head held {held_ms:.2f} ms per round: it seals up to 1000 / {held_ms:.2f} x {per_round:.1f}"
              f" = {1000 / held_ms * per_round:,.0f} events/s = {rate:,.0f} emails/s at this round size (rounds grow"
              " with load, up to 1000 events)")
    else:
        sequencers[key] = "none"
        print(f"   {'':15} sequencer: no round in the gateways' logs")
ratio_two = two["emails_per_second"] / one["emails_per_second"]
ratio_four = four["emails_per_second"] / one["emails_per_second"]
print(f"   ratio two / one = {ratio_two:.2f}, four / one = {ratio_four:.2f} (on one 2-core machine the replicas share"
      " its cores with PostgreSQL: the ceilings, not these ratios, say what more machines give)")
per_email = lambda seconds: f"{seconds * 1000 / one['accepted']:.2f}"
print(f"one_per_s={one['emails_per_second']} two_per_s={two['emails_per_second']} four_per_s={four['emails_per_second']}"
      f" ratio_two={ratio_two:.2f} ratio_four={ratio_four:.2f}"
      f" pg_cpu_ms_per_email={per_email(one['postgres_cpu_seconds'])}"
      f" gateway_cpu_ms_per_email={per_email(one['gateway_cpu_accept_seconds'] + one['gateway_cpu_drain_seconds'])}"
      f" sequencer_one_per_s={sequencers['one']} sequencer_two_per_s={sequencers['two']}"
      f" sequencer_four_per_s={sequencers['four']}"
      f" ceiling_one_per_s={ceilings['one']} ceiling_two_per_s={ceilings['two']} ceiling_four_per_s={ceilings['four']}")
EOF

#!/usr/bin/env bash
# Idle RSS of recovery-gateway (issue 13), the way benchmarks/e2e.sh takes its rss_idle_mb, without the
# burst: release build, the Kratos stand-in, smtp-sink and the gateway on SQLite, a warm-up of 64
# requests from 32 clients, one second idle (RSS_IDLE_SECONDS), then the RSS and what holds it,
# from /proc/PID/smaps: each mapping's resident, private dirty and anonymous kB, grouped by file
# (anonymous mappings and thread stacks together as "[anon]"). The last line is a summary:
#   rss_idle_mb=… anon_mb=… file_mb=…
#
#   benchmarks/rss.sh [WARMUP_REQUESTS=64]
#
# BENCH_GATEWAY_BIN=FILE measures that binary (see benchmarks/lib.sh); RSS_ENV="NAME=VALUE …" sets
# environment variables of the gateway (e.g. RSS_ENV="MALLOC_ARENA_MAX=1").
set -euo pipefail
cd "$(dirname "$0")/.."
warmup=${1:-64}

# shellcheck source=benchmarks/lib.sh
. benchmarks/lib.sh
bench_begin_with_servers rss "$warmup"
for assignment in ${RSS_ENV:-}; do export "${assignment?}"; done
start_gateway main "$sink_port" "sqlite://$work/main.sqlite"
E2E_API_KEY=$api_key "$py" benchmarks/e2e/load.py burst --gateway "$gateway_url" --identities "$work/identities" \
    --requests "$warmup" --clients 32 --sink-counter "$work/sink.counters" --timeout 30 >"$work/warmup.json"
sleep "${RSS_IDLE_SECONDS:-1}"

rss=$(ps -o rss= -p "$gateway_pid" | tr -d ' ')
echo "== rss: gateway idle ${RSS_IDLE_SECONDS:-1} s after a warm-up of $warmup requests (load average $load_average)"
awk '
    /^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" || $6 ~ /^\[(heap|stack)/) ? "[anon]" : $6; next }
    /^Rss:/ { rss[name] += $2; total += $2 }
    /^Private_Dirty:/ { dirty[name] += $2 }
    /^Anonymous:/ { anon[name] += $2; anon_total += $2 }
    END {
        printf "%9s %9s %9s  %s\n", "rss_kB", "dirty_kB", "anon_kB", "mapping"
        for (n in rss) if (rss[n] > 0) printf "%9d %9d %9d  %s\n", rss[n], dirty[n], anon[n], n | "sort -rn"
        close("sort -rn")
        printf "%9d %9s %9d  total\n", total, "", anon_total
    }' "/proc/$gateway_pid/smaps"
threads=("/proc/$gateway_pid/task"/*)
echo "threads: ${#threads[@]}"
anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$gateway_pid/status")
file=$(awk '/^RssFile:/ {print $2}' "/proc/$gateway_pid/status")
stop_gateway "$gateway_pid"
mb() { python3 -c "print(round($1 / 1024, 1))"; }
echo "rss_idle_mb=$(mb "$rss") anon_mb=$(mb "$anon") file_mb=$(mb "$file")"

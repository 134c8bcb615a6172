#!/usr/bin/env bash
# Measures the Kratos stand-in: identity-lookup + link-creation pairs per second on loopback, and
# the same server's GET /health/alive requests per second as a reference measured in the same run.
# Usage: benchmarks/standin.sh [seconds per run, default 10] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-32}"

scripts/install-deps.sh >&2

swift build -c release --product kratos-stand-in >&2
binary="$(swift build -c release --show-bin-path)/kratos-stand-in"

log="$(mktemp)"
"$binary" --host 127.0.0.1 --port 0 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 100); do
    port="$(sed -n 's/.*http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n1)"
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "stand-in did not start: $(cat "$log")" >&2; exit 1; }
url="http://127.0.0.1:$port"

# Warm up both routes, then measure: the pair first, the reference right after.
wrk -t2 -c"$connections" -d2s -s benchmarks/standin/pair.lua "$url" >/dev/null
pairs_out="$(wrk -t2 -c"$connections" -d"${duration}s" -s benchmarks/standin/pair.lua "$url")"
alive_out="$(wrk -t2 -c"$connections" -d"${duration}s" -s benchmarks/standin/alive.lua "$url/health/alive")"

pairs="$(awk '/^PAIRS_PER_SECOND/ {print $2}' <<<"$pairs_out")"
pair_failures="$(awk '/^FAILED_REQUESTS/ {print $2}' <<<"$pairs_out")"
p99="$(awk '/^P99_MS/ {print $2}' <<<"$pairs_out")"
alive="$(awk '/^REQUESTS_PER_SECOND/ {print $2}' <<<"$alive_out")"
alive_failures="$(awk '/^FAILED_REQUESTS/ {print $2}' <<<"$alive_out")"
ratio="$(awk -v p="$pairs" -v a="$alive" 'BEGIN {printf "%.3f", p / a}')"

echo "kratos-stand-in, $(nproc) cores, wrk -t2 -c$connections -d${duration}s on loopback"
echo "  lookup+link pairs/s:          $pairs (p99 ${p99} ms, failed requests: $pair_failures)"
echo "  reference GET /health/alive:  $alive req/s (failed requests: $alive_failures)"
echo "  pairs/s ÷ alive req/s:        $ratio   (a pair is 2 requests; 0.5 would mean no extra cost)"
if [ "$pair_failures" != "0" ] || [ "$alive_failures" != "0" ]; then
    echo "FAIL: some requests failed" >&2
    exit 1
fi
if [ "${pairs%.*}" -lt 5000 ]; then
    echo "BELOW TARGET: fewer than 5000 pairs/s" >&2
    exit 1
fi

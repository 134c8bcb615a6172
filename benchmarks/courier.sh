#!/usr/bin/env bash
# POST /v1/courier/kratos (Kratos's HTTP courier posting its v26.2 `recovery_valid` document, each with
# a link of its own) against POST /v1/recovery-emails (the admin route, which looks the identity up at
# the Kratos stand-in) on one gateway (SQLite, smtp-sink behind it, the worker sending meanwhile):
# answers/s and latency with wrk, the admin route measured right after as the reference.
#
#   benchmarks/courier.sh [SECONDS=10] [CONNECTIONS=32]
#
# BENCH_BUILD=debug measures the debug build (no release build needed); see benchmarks/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}

# shellcheck source=benchmarks/lib.sh
. benchmarks/lib.sh
bench_begin_with_servers courier
start_gateway main "$sink_port" "sqlite://$work/main.sqlite"
export BENCH_API_KEY=$api_key COURIER_FIXTURE=$PWD/Tests/Fixtures/kratos-courier/ctx-v26.2/recovery_valid.json

run() { # SCRIPT: a warm-up, then the measured run
    wrk -t2 -c"$connections" -d2s -s "benchmarks/courier/$1.lua" "$gateway_url" >/dev/null
    wrk -t2 -c"$connections" -d"${duration}s" -s "benchmarks/courier/$1.lua" "$gateway_url"
}
courier_out=$(run courier)
admin_out=$(run admin)
field() { awk -v key="$1" '$1 == key {print $2}' <<<"$2"; }

echo "recovery-gateway ($(basename "$bin") build), $(nproc) cores, load average before: $load_average"
echo "wrk -t2 -c$connections -d${duration}s on loopback, SQLite, smtp-sink, the worker sending meanwhile"
printf '  POST /v1/courier/kratos:  %s answers/s, p50 %s ms, p99 %s ms (failed: %s)\n' \
    "$(field ANSWERS_PER_SECOND "$courier_out")" "$(field P50_MS "$courier_out")" \
    "$(field P99_MS "$courier_out")" "$(field FAILED_REQUESTS "$courier_out")"
printf '  POST /v1/recovery-emails: %s answers/s, p50 %s ms, p99 %s ms (failed: %s)\n' \
    "$(field ANSWERS_PER_SECOND "$admin_out")" "$(field P50_MS "$admin_out")" \
    "$(field P99_MS "$admin_out")" "$(field FAILED_REQUESTS "$admin_out")"
if [ "$(field FAILED_REQUESTS "$courier_out")" != 0 ] || [ "$(field FAILED_REQUESTS "$admin_out")" != 0 ]; then
    fail "some requests were not answered 2xx"
fi

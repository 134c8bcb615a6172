#!/usr/bin/env bash
# Batches (issue 16): ingest of an NDJSON batch (ids of the stand-in's generated identities) into a
# gateway on SQLite, at 10,000 and at 100,000 items, each in a gateway of its own: items/s stored
# and the gateway's peak RSS during the ingest (VmHWM: goal <= 150 MB, flat in the item count), then
# the dry run's items/s over 10,000 of them. The reference measured in the same run: a single
# send's accepts/s (one request per item, 8 clients) over the same identities, and the idle RSS.
#
#   benchmarks/batch.sh [ITEMS=100000]
#
# BENCH_BUILD=debug measures the debug build; see benchmarks/lib.sh. The last line is
# `name=value …` for the record.
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-100000}
small=$((items / 10))
reference=2000

# shellcheck source=benchmarks/lib.sh
. benchmarks/lib.sh
bench_begin batch
load_average=$(cut -d' ' -f1-3 /proc/loadavg)
# The identities, generated in Kratos's format and loaded at the stand-in's start (creating 100,000
# one by one through its admin API would take longer than the benchmark).
python3 - "$items" "$work/identities.json" "$work/identities" <<'PY'
import json, sys, uuid
count, out, ids = int(sys.argv[1]), sys.argv[2], sys.argv[3]
made = []
for n in range(count):
    email = f"bench-{n:06d}@example.com"
    address = {"id": str(uuid.uuid4()), "value": email, "via": "email",
               "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    made.append({"id": str(uuid.uuid4()), "schema_id": "default", "state": "active", "traits": {"email": email},
                 "recovery_addresses": [address], "verifiable_addresses": [],
                 "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})
json.dump(made, open(out, "w"))
open(ids, "w").write("\n".join(i["id"] for i in made) + "\n")
PY
start_standin --identities "$work/identities.json"
start_sink
sed 's/.*/"&"/' "$work/identities" >"$work/items.ndjson"
head -n "$small" "$work/items.ndjson" >"$work/small.ndjson"

rss_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
mb() { python3 -c "print(round($1 / 1024, 1))"; }

# POST FILE [QUERY]: the body streamed (curl -T reads it as it goes); prints seconds taken, fails unless 2xx.
post_ndjson() {
    local started status
    started=$(now)
    status=$(curl -s -o "$work/answer.json" -w '%{http_code}' -X POST -T "$1" \
        -H "Authorization: Bearer $api_key" -H "Content-Type: application/x-ndjson" \
        -H "Idempotency-Key: bench-$RANDOM-$RANDOM" "$gateway_url/v1/recovery-batches?reason=benchmark&$2")
    [ "${status:0:1}" = 2 ] || fail "POST answered $status: $(head -c 300 "$work/answer.json")"
    python3 -c "print(round($(now) - $started, 3))"
}

# ingest NAME FILE COUNT: a fresh gateway, the batch stored at rate 1 then cancelled (nothing of it
# measured but the ingest); sets seconds, per_s, peak_mb, idle_mb.
ingest() {
    start_gateway "$1" "$sink_port" "sqlite://$work/$1.sqlite"
    idle_mb=$(mb "$(rss_kb "$gateway_pid" VmRSS)")
    seconds=$(post_ndjson "$2" "rate=1")
    peak_mb=$(mb "$(rss_kb "$gateway_pid" VmHWM)")
    per_s=$(python3 -c "print(round($3 / $seconds))")
    local id
    id=$(python3 -c "import json; print(json.load(open('$work/answer.json'))['id'])")
    total=$(python3 -c "import json; print(json.load(open('$work/answer.json'))['total'])")
    [ "$total" = "$3" ] || fail "the batch holds $total items, not $3"
    curl -sf -X POST -H "Authorization: Bearer $api_key" "$gateway_url/v1/recovery-batches/$id/cancel" >/dev/null
}

ingest small "$work/small.ndjson" "$small"
small_per_s=$per_s small_peak_mb=$peak_mb small_idle_mb=$idle_mb
stop_gateway "$gateway_pid"
ingest large "$work/items.ndjson" "$items"
large_per_s=$per_s large_peak_mb=$peak_mb

# The dry run over the small list, in the same gateway (no idempotency key needed, nothing stored).
started=$(now)
status=$(curl -s -o "$work/dry.json" -w '%{http_code}' -X POST -T "$work/small.ndjson" \
    -H "Authorization: Bearer $api_key" -H "Content-Type: application/x-ndjson" \
    "$gateway_url/v1/recovery-batches?reason=benchmark&dry_run=true")
[ "$status" = 200 ] || fail "the dry run answered $status"
dry_per_s=$(python3 -c "print(round($small / ($(now) - $started)))")

# The reference: 2,000 of the same identities as single sends (one request each, 8 clients).
E2E_API_KEY=$api_key "$py" benchmarks/e2e/load.py burst --gateway "$gateway_url" --identities "$work/identities" \
    --requests "$reference" --clients 8 --sink-counter "$work/sink.counters" --timeout 600 --gateway-pid "$gateway_pid" >"$work/single.json"
single_per_s=$(python3 -c "import json; d = json.load(open('$work/single.json')); print(round(d['accepted_per_second']))")
stop_gateway "$gateway_pid"

ratio=$(python3 -c "print(round($large_per_s / $single_per_s, 2))")
flat=$(python3 -c "print(round($large_peak_mb / $small_peak_mb, 2))")
echo "recovery-gateway ($(basename "$bin") build), $(nproc) cores, load average before: $load_average"
echo "  ingest of $small NDJSON items:  $small_per_s items/s, gateway peak RSS $small_peak_mb MB (idle $small_idle_mb MB)"
echo "  ingest of $items NDJSON items: $large_per_s items/s, gateway peak RSS $large_peak_mb MB (goal <= 150 MB; ${flat}x the $small)"
echo "  dry run of $small items:        $dry_per_s items/s"
echo "  reference, single sends:        $single_per_s accepts/s (8 clients); ingest is ${ratio}x that"
echo "ingest_per_s=$large_per_s ingest_small_per_s=$small_per_s dry_run_per_s=$dry_per_s single_accepts_per_s=$single_per_s ratio_single=$ratio rss_peak_small_mb=$small_peak_mb rss_peak_large_mb=$large_peak_mb rss_flat_ratio=$flat rss_idle_mb=$small_idle_mb"

#!/usr/bin/env bash
# Writes benchmarks/link-order.txt, the order in which the release build's linker (lld,
# `--symbol-ordering-file`, see Package.swift) lays out the gateway's code: every function the
# gateway runs from start-up through a warm-up of 64 requests (SQLite, the Kratos stand-in,
# smtp-sink), as `valgrind --tool=callgrind` saw them. Laid out together they share pages, so the
# code resident at idle shrinks (benchmarks/rss.sh); a name no longer in the binary is skipped by the
# linker, so a stale list costs only memory. Run it again after larger changes (scripts/install-deps.sh
# installs valgrind).
#
#   benchmarks/link-order.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=benchmarks/lib.sh
. benchmarks/lib.sh
bench_begin link-order

start_standin
start_sink
"$py" benchmarks/e2e/load.py identities --standin "$standin" --count 64 --out "$work/identities"
# valgrind cannot read lld's debug information: it runs a copy without it (the symbols stay).
strip --strip-debug -o "$work/recovery-gateway" "$bin/recovery-gateway"
cat >"$work/callgrind.sh" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --dump-instr=no \
    --compress-strings=no --demangle=no "$work/recovery-gateway" "\$@"
EOF
chmod +x "$work/callgrind.sh"
BENCH_GATEWAY_BIN=$work/callgrind.sh BENCH_READY_TRIES=2400 start_gateway main "$sink_port" "sqlite://$work/main.sqlite"
E2E_API_KEY=$api_key "$py" benchmarks/e2e/load.py burst --gateway "$gateway_url" --identities "$work/identities" \
    --requests 64 --clients 32 --sink-counter "$work/sink.counters" --timeout 300 >"$work/warmup.json"
sleep 2
stop_gateway "$gateway_pid"

# Callgrind's `fn=` (a function) and `cfn=` (a function it called) lines, of the gateway's own binary
# (`ob=`/`cob=`); a `'N` suffix marks a recursion level, not another function.
awk -v binary="$work/recovery-gateway" '
    /^ob=/ { object = substr($0, 4) }
    /^fn=/ && object == binary { print substr($0, 4) }
    /^cob=/ { callee_object = substr($0, 5) }
    /^cfn=/ { if ((callee_object != "" ? callee_object : object) == binary) print substr($0, 5); callee_object = "" }
' "$work/callgrind.out" | sed "s/'[0-9]*\$//" | grep -v '^0x' | LC_ALL=C sort -u >benchmarks/link-order.txt
echo "link-order: $(wc -l <benchmarks/link-order.txt) functions in benchmarks/link-order.txt"

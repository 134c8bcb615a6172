#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]: fuzzes every parser that reads input from outside the gateway
# (fuzz/Parsers/FuzzTarget.swift lists them) with libFuzzer and AddressSanitizer, SECONDS each
# (default 60), and prints per target: executions, findings (crashes, timeouts, out-of-memory),
# peak RSS. The build is its own (`.build-fuzz`, RECOVERY_GATEWAY_FUZZ=1 in Package.swift).
# Each corpus starts from fuzz/seeds/TARGET and the test fixtures of that format; the grown
# corpus and any finding (crash-*, timeout-*, oom-*: the input, to replay with
# `.build-fuzz/debug/fuzz-parsers TARGET FILE`) are kept in .build-fuzz/runs/TARGET.
# FUZZ_JOBS targets run at once (default 2), niced; FUZZ_TARGETS="a b" runs only those.
# Exits 1 if any target has a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
jobs="${FUZZ_JOBS:-2}"
scratch="${FUZZ_SCRATCH_PATH:-.build-fuzz}"

# libFuzzer's driver without its main (fuzz-parsers has its own, which picks the target).
resources="$(swiftc -print-target-info | python3 -c 'import json, sys; print(json.load(sys.stdin)["paths"]["runtimeResourcePath"])')"
driver="$resources/clang/lib/linux/libclang_rt.fuzzer_no_main-$(uname -m).a"
mkdir -p "$scratch"
RECOVERY_GATEWAY_FUZZ=1 swift build --scratch-path "$scratch" --product fuzz-parsers \
    -Xlinker "$driver" -Xlinker -lstdc++ >"$scratch/fuzz-build.log" 2>&1 || { tail -40 "$scratch/fuzz-build.log"; exit 1; }
binary="$(RECOVERY_GATEWAY_FUZZ=1 swift build --scratch-path "$scratch" --show-bin-path)/fuzz-parsers"

# The test fixtures of each format, beside the seeds in fuzz/seeds/TARGET.
fixtures() {
    case "$1" in
        courier-document) printf '%s\n' Tests/Fixtures/kratos-courier/*/*.json ;;
        kratos-answer) printf '%s\n' Tests/Fixtures/kratos/fixtures/*.json Sources/KratosStandIn/stand-in-identities.json ;;
        go-template) find Tests/TemplatesTests/Fixtures -name '*.gotmpl' ;;
        configuration) printf '%s\n' config/gateway.yaml deploy/systemd/gateway.yaml ;;
    esac
}

# The targets, from the binary's usage line (`fuzz-parsers a | b | … [libFuzzer flags] …`, exit 2).
usage="$("$binary" 2>&1 || true)"
targets="${FUZZ_TARGETS:-$(sed -n 's/^usage: fuzz-parsers \(.*\) \[libFuzzer.*/\1/p' <<<"$usage" | tr -d '|')}"
[ -n "$targets" ] || { echo "no fuzz targets in: $usage" >&2; exit 1; }
runs="$scratch/runs"
for target in $targets; do
    mkdir -p "$runs/$target/corpus"
    cp fuzz/seeds/"$target"/* "$runs/$target/corpus/" 2>/dev/null || true
    for file in $(fixtures "$target"); do cp "$file" "$runs/$target/corpus/fixture-$(basename "$(dirname "$file")")-$(basename "$file")"; done
done

run() {
    local target="$1" dir="$runs/$1"
    rm -f "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-* "$dir"/leak-*
    # -timeout: an input taking 10 s is a finding; -rss_limit_mb: so is 2 GiB of memory.
    # Swift's own backtracer is off: libFuzzer reports the crash and keeps its input.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 nice -n 10 "$binary" "$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1 || true
    local executions peak findings
    # The final stats, or (a run stopped by a finding prints none) its last status line.
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)"
    executions="${executions:-$(grep -o '^#[0-9]*' "$dir/log" | tail -1 | tr -d '#')}"
    peak="$(sed -n 's/^stat::peak_rss_mb: *//p' "$dir/log" | tail -1)"
    peak="${peak:-$(grep -o 'rss: [0-9]*' "$dir/log" | tail -1 | tr -dc 0-9)}"
    findings="$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)"
    printf '%-18s executions %10s  findings %s  peak RSS %s MB  corpus %s\n' "$target" "${executions:-?}" \
        "$findings" "${peak:-?}" "$(find "$dir/corpus" -type f | wc -l)"
}

for target in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run "$target" &
done
wait
found="$(find "$runs" -maxdepth 2 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)"
if [ -n "$found" ]; then
    printf 'findings (each target'"'"'s log is %s/TARGET/log):\n%s\n' "$runs" "$found"
    exit 1
fi

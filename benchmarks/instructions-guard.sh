#!/usr/bin/env bash
# The instruction-count guard (issue 28), as SwiftNIO guards its allocation counts
# (IntegrationTests/tests_04_performance/Thresholds): benchmarks/instructions.sh measures the release
# build with the parameters benchmarks/instructions-thresholds.json records, and the guard fails when
# instructions per email or per health request are more than TOLERANCE (3 %) above the file's figure:
# a regression. More than that below it is an improvement, which lowers the file in the same commit;
# the guard says so but does not fail, because the per-email figure still carries the idle pollers'
# share, which is smaller on a quiet machine than on the busy one the file may have been measured on.
#
#   benchmarks/instructions-guard.sh            measure and compare (scripts/test.sh runs it)
#   benchmarks/instructions-guard.sh --update   measure and rewrite the file with the figures
#
# The figures depend on the toolchain: the file names the one they were measured with, and on another
# the guard fails and asks for --update. BENCH_BIN_DIR=DIR measures DIR's binaries without building
# (scripts/test.sh passes the release build it made for the image test too); the rest of
# instructions.sh's environment applies.
set -euo pipefail
cd "$(dirname "$0")/.."
thresholds=benchmarks/instructions-thresholds.json
mode=check
case "${1:-}" in
"") ;;
--update) mode=update ;;
*)
    echo "usage: benchmarks/instructions-guard.sh [--update]" >&2
    exit 2
    ;;
esac

setting() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$thresholds" "$1"; }
toolchain=$(swift --version 2>&1 | grep -o 'Swift version [0-9.]*' | head -n1 | cut -d' ' -f3)
if [ "$mode" = check ] && [ "$(setting swift)" != "$toolchain" ]; then
    echo "instructions-guard: $thresholds was measured with Swift $(setting swift), this is $toolchain:" \
        "run benchmarks/instructions-guard.sh --update and commit the file" >&2
    exit 1
fi
emails=$(setting emails)
clients=$(setting clients)
health=$(setting health_requests)
output=$(mktemp)
trap 'rm -f "$output"' EXIT
INSTRUCTIONS_REFERENCE=$health benchmarks/instructions.sh "$emails" "$clients" | tee "$output"
summary=$(tail -n1 "$output")
per_email=$(sed -n 's/.*instructions_per_email=\([0-9]*\).*/\1/p' <<<"$summary")
per_health=$(sed -n 's/.*instructions_per_health_request=\([0-9]*\).*/\1/p' <<<"$summary")
if [ -z "$per_email" ] || [ -z "$per_health" ]; then
    echo "instructions-guard: no figures in: $summary" >&2
    exit 1
fi

python3 - "$thresholds" "$mode" "$toolchain" "$per_email" "$per_health" <<'EOF'
import json, sys

path, mode, toolchain = sys.argv[1:4]
measured = {"instructions_per_email": int(sys.argv[4]), "instructions_per_health_request": int(sys.argv[5])}
with open(path) as f:
    thresholds = json.load(f)
if mode == "update":
    thresholds.update(measured, swift=toolchain)
    with open(path, "w") as f:
        json.dump(thresholds, f, indent=2)
        f.write("\n")
    print(f"instructions-guard: {path} rewritten: " + " ".join(f"{k}={v}" for k, v in measured.items()))
    sys.exit(0)
tolerance = thresholds["tolerance_percent"]
failed = False
for name, value in measured.items():
    expected = thresholds[name]
    if expected <= 0:
        print(f"instructions-guard: {name} {value}: FAILED: no threshold in {path} (--update)")
        failed = True
        continue
    change = (value - expected) * 100 / expected
    verdict = "ok"
    if change > tolerance:
        verdict, failed = f"FAILED: more than {tolerance} % above the threshold", True
    elif change < -tolerance:
        verdict = f"more than {tolerance} % below: lower {path} (--update) with the change that did it"
    print(f"instructions-guard: {name} {value} vs {expected} ({change:+.2f} %): {verdict}")
sys.exit(1 if failed else 0)
EOF

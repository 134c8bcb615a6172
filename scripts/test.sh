#!/usr/bin/env bash
# The test command: installs what the tests need, builds, and runs every test suite against real
# parts (aiosmtpd and smtp-sink as SMTP servers, the Kratos stand-in checked with Ory's SDK).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The tests start Python helpers with `python3`: make that the one with the test packages.
export PATH="$PWD/.venv/bin:$PATH"

swift build --build-tests
# The release build, once: the image test (Tests/deploy/test_image.py) puts its binary in the image
# users build, and the instruction guard (benchmarks/instructions-guard.sh) measures it.
swift build -c release --product recovery-gateway
swift build -c release --product kratos-stand-in
release="$(swift build -c release --show-bin-path)"

# A throwaway PostgreSQL for the PostgreSQL store's tests, removed at exit.
postgres_dir="$(mktemp -d)"
trap 'scripts/postgres.sh stop "$postgres_dir" >/dev/null 2>&1 || true; rm -rf "$postgres_dir"' EXIT
RECOVERY_GATEWAY_TEST_POSTGRES_URL="$(scripts/postgres.sh start "$postgres_dir")"
export RECOVERY_GATEWAY_TEST_POSTGRES_URL

# A hang fails the run instead of using up CI's time: each suite has a time limit here, and each
# Python test one of its own (pytest-timeout, pytest.ini, which prints the stacks of a test that
# hangs). The Swift tests' limit prints every thread's stack of the test process before it stops
# it, so that a hang says where it hung (a run once hung there without a word for 20 minutes).
swift_test_limit=1200
swift test --skip-build &
swift_test=$!
(
    for ((waited = 0; waited < swift_test_limit; waited += 5)); do
        kill -0 "$swift_test" 2>/dev/null || exit 0
        sleep 5
    done
    echo "swift test ran out of its ${swift_test_limit} s: the stacks of its test processes follow" >&2
    for test_pid in $(pgrep -f 'PackageTests' || true); do
        gdb -p "$test_pid" -batch -ex 'thread apply all bt' >&2 2>&1 || true
    done
    pkill -KILL -P "$swift_test" || true
    kill -KILL "$swift_test" 2>/dev/null || true
) &
swift_test_watchdog=$!
swift_test_status=0
wait "$swift_test" || swift_test_status=$?
wait "$swift_test_watchdog" || true
[ "$swift_test_status" -eq 0 ] || exit "$swift_test_status"
bin="$(swift build --show-bin-path)"
KRATOS_STAND_IN="$bin/kratos-stand-in" timeout --kill-after=30s 5m python3 -m pytest -q Tests/kratos-sdk
# The gateway as a real process: faults, kill -9, concurrency, secrets, audit tampering.
# Tests/e2e/test_openapi.py runs schemathesis (every operation of openapi.yaml) against it too;
# SCHEMATHESIS_MAX_EXAMPLES (default 200) and SCHEMATHESIS_SEED (default 1) tune that run.
RECOVERY_GATEWAY_BIN_DIR="$bin" timeout --kill-after=30s 20m python3 -m pytest -q Tests/e2e
# The deploy files (deploy/): hadolint, systemd-analyze, Kubernetes' schemas, the real binary in each layout,
# and the image built from deploy/Containerfile with the release binary and run with podman.
RECOVERY_GATEWAY_BIN_DIR="$bin" RECOVERY_GATEWAY_RELEASE_BIN="$release/recovery-gateway" \
    timeout --kill-after=30s 20m python3 -m pytest -q Tests/deploy
# Instructions per email and per health request of the release build, against
# benchmarks/instructions-thresholds.json (fails more than 3 % above it; --update rewrites it).
BENCH_BIN_DIR="$release" timeout --kill-after=30s 15m benchmarks/instructions-guard.sh
# Every parser's libFuzzer target (scripts/fuzz.sh) for a few seconds, so that they keep building and running.
# Last, in the debug build's folder: only the gateway's own modules are compiled again (with the fuzzer's
# instrumentation), not the packages, which a folder of its own would build a third time (about 8 minutes).
FUZZ_SCRATCH_PATH=.build timeout --kill-after=30s 20m scripts/fuzz.sh 5

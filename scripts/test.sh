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
# Python test one of its own (pytest-timeout, pytest.ini).
timeout --kill-after=30s 20m swift test --skip-build
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
# benchmarks/instructions-thresholds.json (3 % either way; --update rewrites it).
BENCH_BIN_DIR="$release" timeout --kill-after=30s 15m benchmarks/instructions-guard.sh
# Every parser's libFuzzer target (scripts/fuzz.sh) for a few seconds, so that they keep building and running.
# Last, in the debug build's folder: only the gateway's own modules are compiled again (with the fuzzer's
# instrumentation), not the packages, which a folder of its own would build a third time (about 8 minutes).
FUZZ_SCRATCH_PATH=.build timeout --kill-after=30s 20m scripts/fuzz.sh 5

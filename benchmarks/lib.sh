# shellcheck shell=bash
# Shared by the end-to-end benchmarks (e2e.sh, replicas.sh); source it from the repository root after
# `set -euo pipefail`. It keeps every process it starts in `pids` and kills them on exit, with the
# work directory (kept when BENCH_KEEP=1).
#
#   bench_begin NAME               work dir, cleanup trap, deps, release build (BENCH_BUILD=debug: the debug
#                                  build instead; BENCH_BIN_DIR=DIR: no build, DIR's recovery-gateway and
#                                  kratos-stand-in, as scripts/test.sh passes its release build); sets work, bin, py
#   bench_begin_with_servers NAME [IDENTITIES]
#                                  bench_begin, the load average before anything starts (load_average), the
#                                  stand-in and smtp-sink, and IDENTITIES identities at the stand-in (one id per
#                                  line in $work/identities)
#   start_standin [ARGS…]          the Kratos stand-in (ARGS: more of its options); sets standin (URL), standin_pid
#   start_sink                     smtp-sink -c (running counters in $work/sink.counters); sets sink_port, sink_pid
#   start_gateway NAME SMTP_PORT STORE_URL
#                                  writes $work/NAME.yaml and starts a gateway on it, waits until ready;
#                                  sets gateway_pid, gateway_url. Settings: BENCH_CONNECTIONS
#                                  (smtp.connections, 8), BENCH_WORKERS (delivery.workers, 32),
#                                  BENCH_LOG_LEVEL (info); cooldown off and rate limits lifted.
#                                  BENCH_GATEWAY_BIN=FILE runs that recovery-gateway binary instead of
#                                  the release build's (a copy kept from another commit, to compare two
#                                  versions in one sitting). It gets 10 s to get ready (BENCH_READY_TRIES
#                                  checks 50 ms apart, 200).
#   stop_gateway PID               SIGTERM, and fails unless it exits 0
#   sink_messages                  the messages smtp-sink has counted so far
#   wait_for_sink COUNT SECONDS    waits until smtp-sink has counted COUNT messages; fails after SECONDS
#   fsync_latency DIR              appends and fdatasyncs 4 KB 300 times in a file in DIR: prints "P50 P99" in ms,
#                                  the disk's own floor under a durable commit (a reference for commit latency)
#   free_port, fail, now, cpu_seconds PID

pids=()
bench_cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; kill -CONT "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    for hook in "${cleanup_hooks[@]}"; do $hook || true; done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
cleanup_hooks=()

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
fail() { echo "${bench_name:-bench}: $*" >&2; exit 1; }
now() { date +%s.%N; }
# User + system CPU seconds a process has used so far (/proc/PID/stat fields 14 and 15).
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
# smtp-sink -c separates its running counters by carriage returns: the last mesg=N is the count.
sink_messages() {
    local found
    found=$(tail -c 256 "$work/sink.counters" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -n1 || true)
    found=${found#mesg=}
    echo "${found:-0}"
}
fsync_latency() { # DIR
    python3 - "$1" <<'EOF'
import os, sys, tempfile, time
fd, path = tempfile.mkstemp(dir=sys.argv[1])
took = []
try:
    for _ in range(300):
        os.write(fd, b"x" * 4096)
        start = time.perf_counter()
        os.fdatasync(fd)
        took.append((time.perf_counter() - start) * 1000)
finally:
    os.close(fd)
    os.unlink(path)
took.sort()
print(f"{took[len(took) // 2]:.2f} {took[len(took) * 99 // 100]:.2f}")
EOF
}
wait_for_sink() { # COUNT SECONDS
    local deadline
    deadline=$(python3 -c "import time; print(time.time() + $2)")
    until [ "$(sink_messages)" -ge "$1" ]; do
        python3 -c "import sys, time; sys.exit(time.time() > $deadline)" || fail "smtp-sink counted $(sink_messages) of $1 messages in $2 s"
        sleep 0.1
    done
}

bench_begin() {
    bench_name=$1
    work=$(mktemp -d "/tmp/$bench_name-bench.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    scripts/install-deps.sh >&2
    if [ -n "${BENCH_BIN_DIR:-}" ]; then
        bin=$BENCH_BIN_DIR
    else
        local build=${BENCH_BUILD:-release}
        for product in recovery-gateway kratos-stand-in; do
            swift build -c "$build" --product "$product" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
        done
        bin=$(swift build -c "$build" --show-bin-path)
    fi
    py=.venv/bin/python3
    api_key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    api_key_hash=$(printf '%s' "$api_key" | sha256sum | cut -d' ' -f1)
}

bench_begin_with_servers() { # NAME [IDENTITIES]
    bench_begin "$1"
    # shellcheck disable=SC2034  # for the scripts that source this file
    load_average=$(cut -d' ' -f1-3 /proc/loadavg)
    start_standin
    start_sink
    if [ -n "${2:-}" ]; then
        "$py" benchmarks/e2e/load.py identities --standin "$standin" --count "$2" --out "$work/identities"
    fi
}

# shellcheck disable=SC2120  # its options are the stand-in's (batch.sh passes --identities FILE)
start_standin() { # [STAND-IN OPTIONS]
    "$bin/kratos-stand-in" --host 127.0.0.1 --port 0 "$@" >"$work/stand-in.log" 2>&1 &
    # shellcheck disable=SC2034  # for the scripts that source this file
    standin_pid=$!
    pids+=($!)
    standin=""
    # Up to a minute: a large --identities file takes a while to load.
    for _ in $(seq 600); do
        standin=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/stand-in.log" | head -n1 || true)
        [ -n "$standin" ] && return 0
        sleep 0.1
    done
    fail "the stand-in did not start: $(cat "$work/stand-in.log")"
}

# smtp-sink -c keeps running counters ("sess=N quit=N mesg=N", one per \r) on stdout: the count of
# received messages without dumping them to disk.
start_sink() {
    sink_port=$(free_port)
    local user_option=()
    [ "$(id -u)" = 0 ] && user_option=(-u nobody)
    /usr/sbin/smtp-sink "${user_option[@]}" -c -h smtp-sink.bench "127.0.0.1:$sink_port" 256 \
        >"$work/sink.counters" 2>"$work/sink.log" &
    # shellcheck disable=SC2034  # for the scripts that source this file
    sink_pid=$!
    pids+=($!)
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$sink_port") 2>/dev/null && return 0; sleep 0.1; done
}

start_gateway() { # NAME SMTP_PORT STORE_URL
    local name=$1 smtp_port=$2 store_url=$3 port
    port=$(free_port)
    cat >"$work/$name.yaml" <<EOF
server:
  host: 127.0.0.1
  port: $port
kratos:
  admin_url: $standin
smtp:
  url: smtp://127.0.0.1:$smtp_port/?disable_starttls=true
  connections: ${BENCH_CONNECTIONS:-8}
store:
  url: $store_url
audit:
  key_file: $work/audit.key
courier:
  payload_key_file: $work/courier-payload.key
  allowed_link_origins: [https://auth.example.com]  # the Kratos of Tests/Fixtures/kratos-courier
  recipient_limit: 100000  # a benchmark measures throughput, not the flood limit
  recipient_window: 1s
delivery:
  cooldown: 0s
  workers: ${BENCH_WORKERS:-32}
  rate_per_key: 1000000
  burst_per_key: 1000000
templates:
  dir: $PWD/templates
logging:
  level: ${BENCH_LOG_LEVEL:-info}
  format: json
api_keys:
  - name: bench
    sha256: "$api_key_hash"
    scopes: [recovery:send, recovery:read, courier:kratos]
EOF
    "${BENCH_GATEWAY_BIN:-$bin/recovery-gateway}" serve --config "$work/$name.yaml" >"$work/$name.log" 2>&1 &
    gateway_pid=$!
    pids+=("$gateway_pid")
    gateway_url="http://127.0.0.1:$port"
    for _ in $(seq "${BENCH_READY_TRIES:-200}"); do
        curl -sf "$gateway_url/health/ready" >/dev/null 2>&1 && return 0
        kill -0 "$gateway_pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "the gateway ($name) did not get ready: $(tail -n 5 "$work/$name.log")"
}

stop_gateway() { # PID
    kill -TERM "$1"
    wait "$1" || fail "a gateway exited with $? on SIGTERM"
}

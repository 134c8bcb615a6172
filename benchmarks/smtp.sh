#!/usr/bin/env bash
# SMTP delivery rate of the Mail transport against postfix's smtp-source, on the same smtp-sink,
# in the same run: one line per connection count with both rates and ours/smtp-source.
#
#   benchmarks/smtp.sh [MESSAGES=20000] [CONNECTION_COUNTS="1 4"]
#
# SMTP_DOT_DELAY=SECONDS (e.g. 0.02) measures instead against benchmarks/smtp/slow_server.py, which
# answers each message's final "." after that delay, as a real relay does: then both rates are
# bounded by connections / delay, and the line shows how close each comes (MESSAGES 1000 is plenty).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-20000}
counts=${2:-1 4}

scripts/install-deps.sh >/dev/null
swift build -c release --product smtp-benchmark >/dev/null
bench=$(swift build -c release --show-bin-path)/smtp-benchmark

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ -n "${SMTP_DOT_DELAY:-}" ]; then
    python3 benchmarks/smtp/slow_server.py "$port" "$SMTP_DOT_DELAY" &
    sink=$!
    server="slow_server.py (answers the final \".\" after ${SMTP_DOT_DELAY} s)"
else
    user_option=()
    [ "$(id -u)" = 0 ] && user_option=(-u nobody)
    /usr/sbin/smtp-sink "${user_option[@]}" -h smtp-sink.bench "127.0.0.1:$port" 256 &
    sink=$!
    server=smtp-sink
fi
trap 'kill $sink 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

now() { date +%s.%N; }
echo "messages=$messages sink=$server 127.0.0.1:$port cores=$(nproc)"
for connections in $counts; do
    # Two callers per connection: more attempts than connections, as the gateway runs (its defaults:
    # delivery.workers 32, smtp.connections 8).
    ours=$("$bench" "smtp://127.0.0.1:$port/?disable_starttls=true" "$messages" "$connections" $((2 * connections)))
    rate=$(sed -E 's/.* rate=([0-9]+).*/\1/' <<<"$ours")
    size=$(sed -E 's/.* bytes=([0-9]+).*/\1/' <<<"$ours")
    rss=$(sed -E 's/.* peak_rss_kb=([0-9]+).*/\1/' <<<"$ours")
    start=$(now)
    /usr/sbin/smtp-source -d -s "$connections" -m "$messages" -l "$size" \
        -f no-reply@example.com -t user@example.com "127.0.0.1:$port"
    end=$(now)
    reference=$(python3 -c "print(int($messages / ($end - $start)))")
    ratio=$(python3 -c "print(f'{$rate / $reference:.2f}')")
    echo "connections=$connections ours=${rate}/s smtp-source=${reference}/s ratio=$ratio message_bytes=$size peak_rss=${rss}kB"
done

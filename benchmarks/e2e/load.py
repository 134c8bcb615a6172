"""Load generator of benchmarks/e2e.sh.

load.py identities --standin URL --count N --out FILE
    creates N identities at the Kratos stand-in (POST /admin/identities), one id per line.
E2E_API_KEY=KEY load.py burst --gateway URL [--gateway URL…] --identities FILE --requests N --clients C
              --sink-counter FILE [--timeout S] [--gateway-pid PID…] [--resume-pid PID]
    sends N POST /v1/recovery-emails from C keep-alive connections (spread over the gateways
    in turn when several are given, as a round-robin load balancer would), each with a unique
    Idempotency-Key and the next identity, times every answer, then waits until smtp-sink's
    running counter (`smtp-sink -c` output) has grown by the number of accepted requests.
    --resume-pid PID sends SIGCONT to PID (a sink stopped with SIGSTOP) once every answer is in,
    to time the accept path and the delivery drain apart.
    Prints one JSON object with the figures.
"""

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_client import Connection  # noqa: E402

MESSAGES = re.compile(rb"mesg=(\d+)")


def sink_count(path):
    """The last `mesg=N` smtp-sink -c wrote to `path` (its counters, separated by carriage returns)."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 256))
            found = MESSAGES.findall(file.read())
    except FileNotFoundError:
        return 0
    return int(found[-1]) if found else 0


def cpu_seconds(pids):
    """User + system CPU seconds the processes `pids` have used (fields 14 and 15 of /proc/PID/stat)."""
    total = 0.0
    for pid in pids or []:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def host_port(url):
    parsed = urllib.parse.urlsplit(url)
    return parsed.hostname, parsed.port


async def create_identities(args):
    host, port = host_port(args.standin)
    ids = [None] * args.count
    next_index = 0

    async def client():
        nonlocal next_index
        connection = Connection(host, port)
        while next_index < args.count:
            index = next_index
            next_index += 1
            body = json.dumps({"schema_id": "default", "traits": {"email": f"bench-{index:06d}@example.com"}}).encode()
            status, _, answer = await connection.request(
                "POST", "/admin/identities", body, {"Content-Type": "application/json"}
            )
            if status != 201:
                raise SystemExit(f"POST /admin/identities answered {status}: {answer[:200]!r}")
            ids[index] = json.loads(answer)["id"]
        connection.close()

    await asyncio.gather(*(client() for _ in range(16)))
    with open(args.out, "w") as file:
        file.write("\n".join(ids) + "\n")


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-fraction * len(sorted_values) // 1)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def burst(args):
    gateways = [host_port(url) for url in args.gateway]
    with open(args.identities) as file:
        identities = [line.strip() for line in file if line.strip()]
    run = os.urandom(6).hex()
    headers_base = {"Authorization": f"Bearer {os.environ['E2E_API_KEY']}", "Content-Type": "application/json"}
    bodies = [
        json.dumps({"identity_id": identities[i % len(identities)], "reason": "e2e benchmark"}).encode()
        for i in range(args.requests)
    ]
    latencies = []
    statuses = {}
    next_index = 0
    baseline = sink_count(args.sink_counter)
    target = [args.requests]
    connections = [Connection(*gateways[n % len(gateways)]) for n in range(args.clients)]
    await asyncio.gather(*(connection.open() for connection in connections))

    async def client(connection):
        nonlocal next_index
        while next_index < args.requests:
            index = next_index
            next_index += 1
            headers = dict(headers_base)
            headers["Idempotency-Key"] = f"bench-{run}-{index}"
            sent = time.perf_counter()
            status, _, answer = await connection.request("POST", "/v1/recovery-emails", bodies[index], headers)
            latencies.append(time.perf_counter() - sent)
            statuses[status] = statuses.get(status, 0) + 1
            if status != 202 and statuses[status] <= 3:
                print(f"request {index}: {status} {answer[:300]!r}", file=sys.stderr)

    async def wait_for_sink(started):
        deadline = started + args.timeout
        while time.perf_counter() < deadline:
            if sink_count(args.sink_counter) - baseline >= target[0]:
                return time.perf_counter()
            await asyncio.sleep(0.005)
        return None

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    gateway_cpu_start = cpu_seconds(args.gateway_pid)
    started = time.perf_counter()
    watcher = asyncio.ensure_future(wait_for_sink(started))
    await asyncio.gather(*(client(connection) for connection in connections))
    accepted_at = time.perf_counter()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    gateway_cpu_accepted = cpu_seconds(args.gateway_pid)
    accepted = statuses.get(202, 0)
    target[0] = accepted
    if args.resume_pid:
        os.kill(args.resume_pid, signal.SIGCONT)
    delivered_at = await watcher
    gateway_cpu_delivered = cpu_seconds(args.gateway_pid)
    for connection in connections:
        connection.close()
    latencies.sort()
    accept_seconds = accepted_at - started
    result = {
        "requests": args.requests,
        "clients": args.clients,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "accepted": accepted,
        "accept_seconds": round(accept_seconds, 3),
        "accepted_per_second": round(accepted / accept_seconds, 1),
        "accept_p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "accept_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "accept_max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        "delivered": sink_count(args.sink_counter) - baseline,
        "e2e_seconds": round(delivered_at - started, 3) if delivered_at else None,
        "emails_per_second": round(accepted / (delivered_at - started), 1) if delivered_at else None,
        "drain_seconds": round(delivered_at - accepted_at, 3) if delivered_at else None,
        "gateway_cpu_accept_seconds": round(gateway_cpu_accepted - gateway_cpu_start, 2),
        "gateway_cpu_drain_seconds": round(gateway_cpu_delivered - gateway_cpu_accepted, 2),
        "client_cpu_seconds": round(
            (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime), 3
        ),
    }
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("identities")
    make.add_argument("--standin", required=True)
    make.add_argument("--count", type=int, required=True)
    make.add_argument("--out", required=True)
    send = commands.add_parser("burst")
    send.add_argument("--gateway", required=True, action="append", help="a gateway's URL (repeat for several)")
    send.add_argument("--identities", required=True)
    send.add_argument("--requests", type=int, required=True)
    send.add_argument("--clients", type=int, default=32)
    send.add_argument("--sink-counter", required=True)
    send.add_argument("--timeout", type=float, default=120)
    send.add_argument(
        "--gateway-pid", type=int, action="append", help="a gateway's pid (repeatable), to report CPU time per phase"
    )
    send.add_argument("--resume-pid", type=int, help="a stopped process (the sink) to SIGCONT once all are accepted")
    args = parser.parse_args()
    asyncio.run(create_identities(args) if args.command == "identities" else burst(args))


if __name__ == "__main__":
    main()

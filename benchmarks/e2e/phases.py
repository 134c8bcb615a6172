"""Phase quantiles of benchmarks/e2e.sh, from two scrapes of the gateway's GET /metrics.

phases.py BEFORE AFTER
    BEFORE and AFTER are the Prometheus text pages scraped before and after a run. For each
    phase of recovery_gateway_accept_phase_seconds and recovery_gateway_delivery_phase_seconds
    the run's observations are the difference of the two pages' buckets; p50 and p99 are read
    off those buckets by linear interpolation inside the bucket the quantile falls in (as
    Prometheus's histogram_quantile does), so they are as fine as the buckets (0.25 ms wide
    around 1 ms, 2.5 ms around 10 ms), not exact. Prints one line per phase
    (`accept read_parse count p50_ms p99_ms`), then `accept_phase_p99_max=PHASE
    delivery_phase_p99_max=PHASE`: the phase with the largest p99 of each path.
"""

import math
import re
import sys

SAMPLE = re.compile(r"^(recovery_gateway_(accept|delivery)_phase_seconds_bucket)\{(.*)\} (\S+)$")
LABEL = re.compile(r'(\w+)="([^"]*)"')


def buckets(path):
    """{(path, phase): {le: cumulative count}} of one page."""
    found = {}
    with open(path, encoding="utf-8") as page:
        for line in page:
            match = SAMPLE.match(line.strip())
            if not match:
                continue
            labels = dict(LABEL.findall(match.group(3)))
            le = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            found.setdefault((match.group(2), labels["phase"]), {})[le] = float(match.group(4))
    return found


def quantile(q, cumulative):
    """The q-quantile in seconds of cumulative bucket counts {le: count}, interpolated; None if empty."""
    bounds = sorted(cumulative)
    total = cumulative[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= rank:
            if bound == math.inf:
                return lower  # beyond the last finite bucket: its bound is all we know
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside > 0 else 1)
        lower, below = bound, count
    return lower


def main():
    before, after = buckets(sys.argv[1]), buckets(sys.argv[2])
    worst = {}
    for key in sorted(after):
        then = before.get(key, {})
        run = {le: count - then.get(le, 0.0) for le, count in after[key].items()}
        p50, p99 = quantile(0.5, run), quantile(0.99, run)
        count = int(run[math.inf])
        shown = [f"{value * 1000:.3f}" if value is not None else "None" for value in (p50, p99)]
        print(f"{key[0]} {key[1]} {count} {shown[0]} {shown[1]}")
        if p99 is not None and (key[0] not in worst or p99 > worst[key[0]][1]):
            worst[key[0]] = (key[1], p99)
    print(
        " ".join(
            f"{path}_phase_p99_max={worst[path][0]}" if path in worst else f"{path}_phase_p99_max=None"
            for path in ("accept", "delivery")
        )
    )


if __name__ == "__main__":
    main()

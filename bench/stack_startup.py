"""The reference stack: `lab up` to healthy and trading (the first trade recorded), and the
backend's restart to healthy. Targets (issue 4): <= 25 s and <= 3 s (medians).

    python bench/stack_startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # loopback only
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="reports/bench")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 10))
    to_trading, restarts = [], []
    for i in range(runs):
        lab = DockerLab(LabSettings(name=f"bench-stack-{i}", services=("backend",)))
        started = time.monotonic()
        try:
            lab.start()
            dsn = lab.services()["postgres"].url
            with psycopg.connect(dsn, autocommit=True) as conn:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:  # bounded: a minute at most
                    if conn.execute("SELECT count(*) FROM trade_executions").fetchone()[0]:  # type: ignore[index]
                        break
                    time.sleep(0.05)
            to_trading.append(time.monotonic() - started)
            health = lab.services()["backend"].endpoint("health").url + "/health"
            for _ in range(3):
                container = lab.container("backend")
                t0 = time.monotonic()
                container.restart(timeout=10)
                deadline = time.monotonic() + 30
                while not healthy(health) and time.monotonic() < deadline:
                    time.sleep(0.02)
                restarts.append(time.monotonic() - t0)
        finally:
            lab.stop()
            clean_leftovers(lab.client, lab.name)
    up, restart = statistics.median(to_trading), statistics.median(restarts)
    print(f"{'figure':<38} {'median':>8} {'target':>8}  samples")
    print(
        f"{'lab up to healthy and trading, s':<38} {up:>8.2f} {'25':>8}  "
        + ", ".join(f"{x:.2f}" for x in to_trading)
    )
    print(
        f"{'backend restart to healthy, s':<38} {restart:>8.2f} {'3':>8}  "
        + ", ".join(f"{x:.2f}" for x in restarts)
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "stack_startup.json").write_text(
        json.dumps({"to_trading_s": to_trading, "restart_s": restarts}, indent=2) + "\n"
    )
    return 0 if up <= 25 and restart <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())

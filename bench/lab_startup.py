"""Lab start-up benchmark: image build (cold and cache hit), `lab up` to all-healthy, `lab down`.

Targets: data services up (postgres, redis, rabbitmq) median <= 15 s and lab down <= 5 s on a
2-core machine with images built; image build from nothing <= 3 min; an unchanged recipe <= 2 s
(issue 2); the whole default lab, stack included, up and healthy <= 25 s (issue 4).

    python bench/lab_startup.py [--runs 5] [--skip-cold] [--out reports/bench]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import docker

from drillbook.engine import docker_client
from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers
from drillbook.images import RECIPES, ImageBuilder

TARGETS = {
    "lab_up_s": 15.0,
    "lab_down_s": 5.0,
    "stack_up_s": 25.0,
    "build_cold_s": 180.0,
    "build_cached_s": 2.0,
}
DATA = ("postgres", "redis", "rabbitmq")


def cycle(
    client: docker.DockerClient, prefix: str, services: tuple[str, ...] | None, runs: int
) -> tuple[list[float], list[float]]:
    """Bring a lab up to all-healthy and down again, ``runs`` times; seconds of each."""
    ups, downs = [], []
    for i in range(runs):
        lab = DockerLab(LabSettings(name=f"{prefix}-{i}", services=services), client=client)
        try:
            started = time.monotonic()
            lab.start()
            ups.append(time.monotonic() - started)
        finally:
            started = time.monotonic()
            lab.stop()
            downs.append(time.monotonic() - started)
        clean_leftovers(client, f"{prefix}-{i}")
    return ups, downs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="lab up/down cycles (default 5)")
    parser.add_argument("--skip-cold", action="store_true", help="skip the build from nothing")
    parser.add_argument("--out", default="reports/bench", help="where to write the JSON")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 20))  # bounded

    client = docker_client()
    builder = ImageBuilder(client)
    figures: dict[str, float | None] = {"build_cold_s": None}
    if not args.skip_cold:
        started = time.monotonic()
        builder.build_all(RECIPES, force=True, jobs=2)
        figures["build_cold_s"] = time.monotonic() - started
    cached = []
    for _ in range(5):  # the whole command a user runs, interpreter start-up included
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "drillbook", "images", "build"],
            check=True,
            capture_output=True,
            timeout=600,
        )
        cached.append(time.monotonic() - started)
    assert all(builder.exists(r.tag) for r in RECIPES)
    figures["build_cached_s"] = statistics.median(cached)

    stack_ups, _ = cycle(client, "bench-stack", None, runs)  # the whole default lab
    ups, downs = cycle(client, "bench", DATA, runs)  # the data services alone (issue 2)
    figures["lab_up_s"] = statistics.median(ups)
    figures["lab_down_s"] = statistics.median(downs)
    figures["stack_up_s"] = statistics.median(stack_ups)

    print(f"{'figure':<16} {'median':>9} {'target':>9}  verdict   samples")
    samples = {
        "lab_up_s": ups,
        "lab_down_s": downs,
        "stack_up_s": stack_ups,
        "build_cached_s": cached,
    }
    ok = True
    for key, target in TARGETS.items():
        value = figures.get(key)
        if value is None:
            print(f"{key:<16} {'skipped':>9} {target:>8.1f}s")
            continue
        verdict = "ok" if value <= target else "MISSED"
        ok &= value <= target
        extra = ", ".join(f"{s:.2f}" for s in samples.get(key, []))
        print(f"{key:<16} {value:>8.2f}s {target:>8.1f}s  {verdict:<8}  {extra}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"bench": "lab_startup", "runs": runs, "figures": figures, "samples": samples}
    (out / "lab_startup.json").write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

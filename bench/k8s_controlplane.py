"""Local Kubernetes control plane benchmark: the build (first and cached), `k8s up` to ready kwok
nodes, `k8s down`.

Targets (issue 8): control plane up with binaries cached <= 30 s; the first build's time is
printed (no target: it is a one-off per version, cached outside the repository).

    python bench/k8s_controlplane.py [--runs 3] [--nodes 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

TARGET_UP_S = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--out", default="reports/bench", help="where to write the JSON")
    args = parser.parse_args()
    build = ControlPlaneBuild(default_cache())
    took = build.build(say=lambda msg: print(f"  {msg}"))
    if took:
        for binary, seconds in took.items():
            print(f"first build: {binary} {seconds:.0f}s")
        print(f"first build total: {sum(took.values()):.0f}s")
    again = time.monotonic()
    build.build(say=lambda _msg: None)
    print(f"build with everything cached: {time.monotonic() - again:.2f}s")
    ups, downs = [], []
    for i in range(args.runs):
        plane = ControlPlane(build, name=f"bench-{i}", nodes=args.nodes)
        t0 = time.monotonic()
        plane.up(say=lambda _msg: None)
        ups.append(time.monotonic() - t0)
        t1 = time.monotonic()
        plane.down(quiet=True)
        downs.append(time.monotonic() - t1)
    up, down = statistics.median(ups), statistics.median(downs)
    verdict = "ok" if up <= TARGET_UP_S else "OVER TARGET"
    print(
        f"k8s up (cached, {args.nodes} kwok nodes ready): median {up:.1f}s of {args.runs} "
        f"{[round(u, 1) for u in ups]}, target <= {TARGET_UP_S:g}s: {verdict}"
    )
    print(f"k8s down: median {down:.1f}s {[round(d, 1) for d in downs]}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "k8s_controlplane.json").write_text(
        json.dumps({"up_s": ups, "down_s": downs, "first_build_s": took or {}}, indent=2) + "\n"
    )
    return 0 if up <= TARGET_UP_S else 1


if __name__ == "__main__":
    raise SystemExit(main())

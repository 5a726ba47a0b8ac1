"""Drill framework overhead: wall time of a drill minus the system's own recovery and the settle
period the profile asks for. Also prints time to detect (bounded by the 10 Hz probe poll).

Target (issue 6): overhead <= 1 s median; phase timestamps accurate to <= 100 ms.

    python bench/drill_overhead.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from drillbook.drills import Drill, DrillRunner, Step
from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers
from drillbook.faults import KillContainer
from drillbook.probes import ServiceHealthy
from drillbook.sla import Budget, Profile

PROFILE = Profile("bench", settle_s=1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default="reports/bench")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 20))
    drill = Drill(
        "redis killed",
        "RedisDown",
        KillContainer("redis"),
        (ServiceHealthy("redis"),),
        (Step("start redis", lambda p: p.start("redis")),),
        (Budget("time_to_recover", 60),),
    )
    lab = DockerLab(LabSettings(name="bench-overhead", services=("redis",)))
    lab.start()
    rows = []
    try:
        runner = DrillRunner(lab, PROFILE)
        for _ in range(runs):
            r = runner.run(drill)
            r.raise_for_outcome()
            recover = r.measured["time_to_recover"]
            rows.append(
                {
                    "wall_s": r.wall_s,
                    "recover_s": recover,
                    "detect_s": r.measured["time_to_detect"],
                    "overhead_s": r.wall_s - recover - PROFILE.settle_s,
                }
            )
    finally:
        lab.stop()
        clean_leftovers(lab.client, lab.name)
    med = {k: statistics.median(row[k] for row in rows) for k in rows[0]}
    print(f"{'figure':<12} {'median':>8}  samples")
    for key in ("wall_s", "recover_s", "detect_s", "overhead_s"):
        print(f"{key:<12} {med[key]:>7.3f}s  " + ", ".join(f"{row[key]:.3f}" for row in rows))
    print(
        f"overhead target <= 1.000s: {'ok' if med['overhead_s'] <= 1 else 'MISSED'}; "
        f"detection poll 0.1s: time_to_detect median {med['detect_s']:.3f}s"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "drill_overhead.json").write_text(
        json.dumps({"runs": rows, "median": med}, indent=2) + "\n"
    )
    return 0 if med["overhead_s"] <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())

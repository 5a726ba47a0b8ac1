"""Kubernetes drills benchmark: each drill of the Kubernetes tier run ``--runs`` times on a
local control plane (kwok nodes, pods take 2 s to start); its recovery time (fault in effect ->
steady state again) and wall time printed as medians, next to the recovery budget the runbook
gives it.

Target (issue 8): each drill's recovery time printed; every run within its budget.

    python bench/k8s_drills.py [--runs 3] [DRILL ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from drillbook.drills import DrillRunner, default_runbook
from drillbook.drills.kubernetes import REAL_NODES_ONLY, kubernetes_drills
from drillbook.environments.kubernetes import (
    ControlPlane,
    ControlPlaneBuild,
    KubernetesLab,
    KubernetesPlatform,
    default_cache,
)
from drillbook.sla import get_profile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", default="ci")
    parser.add_argument("drills", nargs="*")
    args = parser.parse_args()
    if not 1 <= args.runs <= 20:
        parser.error("--runs: 1 to 20")
    profile = get_profile(args.profile)
    catalog = [d for d in kubernetes_drills(default_runbook()) if d.name not in REAL_NODES_ONLY]
    chosen = [d for d in catalog if not args.drills or d.name in args.drills]
    plane = ControlPlane(ControlPlaneBuild(default_cache()), name=f"bench-drills-{os.getpid()}")
    t0 = time.monotonic()
    kubeconfig = plane.up(say=lambda _msg: None)
    lab = KubernetesLab(kubeconfig)
    lab.start()
    print(f"control plane and stack up in {time.monotonic() - t0:.1f}s")
    failed = 0
    try:
        runner = DrillRunner(
            lab,  # type: ignore[arg-type]
            profile,
            detection=None,
            platform=KubernetesPlatform(lab),
        )
        for drill in chosen:
            recovered, walls, outcomes = [], [], []
            for _ in range(args.runs):
                result = runner.run(drill)
                outcomes.append(result.outcome)
                walls.append(result.wall_s)
                if "time_to_recover" in result.measured:
                    recovered.append(float(result.measured["time_to_recover"]))
            budget = next(
                (profile.tighten(b) for b in drill.budgets if b.measure == "time_to_recover"),
                None,
            )
            failed += sum(o != "passed" for o in outcomes)
            median = f"{statistics.median(recovered):.1f}s" if recovered else "-"
            limit = f"{budget.seconds:g}s" if budget else "none"
            print(
                f"{drill.name:<28} recover median {median} {[round(r, 1) for r in recovered]}"
                f"  wall median {statistics.median(walls):.1f}s  budget {limit}"
                f"  outcomes {outcomes}"
            )
    finally:
        plane.down(quiet=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Drill-project benchmark: the notes example's drills on both backends, each ``--runs``
times. On Docker (examples/notes: its Compose lab with Prometheus on its alert rules) each
drill's time to its alert and to recovery; on Kubernetes (examples/notes/kubernetes on a local
control plane, kwok nodes) its time to recovery through its kubectl runbook. Medians and the
single runs are printed with the recovery budget; lab start-up is printed too.

    python bench/project_drills.py [--runs 3] [--skip-kubernetes] [--skip-docker]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from drillbook.drills import DrillRunner
from drillbook.environments.docker import DockerLab
from drillbook.environments.kubernetes import (
    ControlPlane,
    ControlPlaneBuild,
    KubernetesPlatform,
    default_cache,
)
from drillbook.project import kubernetes_lab, lab_settings, load_project, project_drills
from drillbook.sla import get_profile

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "notes"


def _row(drill: Any, results: list[Any], profile: Any) -> tuple[str, int]:
    def median(measure: str) -> str:
        seen = [float(r.measured[measure]) for r in results if measure in r.measured]
        return f"{statistics.median(seen):.1f}s {[round(s, 1) for s in seen]}" if seen else "-"

    budget = next(
        (profile.tighten(b) for b in drill.budgets if b.measure == "time_to_recover"), None
    )
    outcomes = [r.outcome for r in results]
    return (
        f"  {drill.name:<18} alert {median('time_to_alert'):<22} recover "
        f"{median('time_to_recover'):<22} wall {statistics.median(r.wall_s for r in results):.1f}s"
        f"  budget {budget.seconds if budget else '-'}s  {outcomes}",
        sum(o != "passed" for o in outcomes),
    )


def docker(runs: int, profile: Any) -> int:
    project = load_project(EXAMPLES)
    lab = DockerLab(lab_settings(project, name=f"bench-notes-{uuid.uuid4().hex[:6]}"))
    t0 = time.monotonic()
    lab.start()
    print(f"docker: notes lab (api, db, cache, responder, alertmanager, prometheus) up in "
          f"{time.monotonic() - t0:.1f}s")  # fmt: skip
    failed = 0
    try:
        runner = DrillRunner(lab, profile)  # detection: the project's Prometheus
        for drill in project_drills(project):
            if drill.planned:
                continue
            line, bad = _row(drill, [runner.run(drill) for _ in range(runs)], profile)
            print(line)
            failed += bad
    finally:
        lab.stop()
    return failed


def kubernetes(runs: int, profile: Any) -> int:
    project = load_project(EXAMPLES / "kubernetes")
    plane = ControlPlane(ControlPlaneBuild(default_cache()), name=f"bench-notes-{os.getpid()}")
    t0 = time.monotonic()
    kubeconfig = plane.up(say=lambda _msg: None)
    up = time.monotonic() - t0
    lab = kubernetes_lab(project, kubeconfig, project_context=False)
    lab.start()
    print(f"kubernetes: control plane up in {up:.1f}s, notes manifests ready in "
          f"{time.monotonic() - t0 - up:.1f}s (kwok nodes)")  # fmt: skip
    failed = 0
    try:
        runner = DrillRunner(
            lab,  # type: ignore[arg-type]
            profile,
            detection=None,
            platform=KubernetesPlatform(lab),
        )
        for drill in project_drills(project, "kubernetes"):
            line, bad = _row(drill, [runner.run(drill) for _ in range(runs)], profile)
            print(line)
            failed += bad
    finally:
        plane.down(quiet=True)
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--skip-kubernetes", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.runs <= 20:
        parser.error("--runs: 1 to 20")
    profile = get_profile(args.profile)
    failed = 0
    if not args.skip_docker:
        failed += docker(args.runs, profile)
    if not args.skip_kubernetes:
        failed += kubernetes(args.runs, profile)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

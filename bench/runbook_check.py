"""``drillbook runbook check`` benchmark: the offline checks, and each lab tier end to end
(lab up, checks, lab down) with the checks' own share.

Targets (issue 9): offline <= 2 s; the Docker run (lab included) <= 60 s; the Kubernetes run
(control plane and stack included) <= 90 s.

    python bench/runbook_check.py [--runs 5] [--skip-docker] [--skip-kubernetes]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from pathlib import Path

from drillbook.checks import CheckOptions, RunbookDoc, docker_checks, offline_checks, run_check

RUNBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "operational-runbooks.md"
TARGETS = {"offline": 2.0, "docker": 60.0, "kubernetes": 90.0}


def _docker_share() -> float:
    from drillbook.environments.docker import DockerLab, LabSettings

    lab = DockerLab(
        LabSettings(name=f"bench-check-{uuid.uuid4().hex[:6]}", services=("backend", "backup"))
    )
    lab.start()
    try:
        t0 = time.monotonic()
        docker_checks(RunbookDoc.load(RUNBOOK), lab)
        return time.monotonic() - t0
    finally:
        lab.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--skip-kubernetes", action="store_true")
    args = parser.parse_args()
    ok = True
    times = []
    for _ in range(args.runs):
        t0 = time.monotonic()
        found = offline_checks(RunbookDoc.load(RUNBOOK))
        times.append(time.monotonic() - t0)
    median = statistics.median(times)
    ok &= median <= TARGETS["offline"]
    print(
        f"offline checks: median {median:.2f}s of {args.runs}, {len(found)} finding(s), "
        f"target <= {TARGETS['offline']:g}s"
    )
    for env in ("docker", "kubernetes"):
        if getattr(args, f"skip_{env}"):
            continue
        t0 = time.monotonic()
        report = run_check(CheckOptions(RUNBOOK, env, f"bench-check-{uuid.uuid4().hex[:6]}"))
        took = time.monotonic() - t0
        ok &= took <= TARGETS[env]
        print(
            f"--env {env} end to end: {took:.1f}s, {len(report.findings)} finding(s), "
            f"target <= {TARGETS[env]:g}s"
        )
    if not args.skip_docker:
        print(
            "--env docker, the checks alone (SQL, binaries, HTTP) on a running lab: "
            f"{_docker_share():.2f}s"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

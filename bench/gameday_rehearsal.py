"""A full rehearsal of a game-day plan (default the quarterly one): lab up, every scenario with
automation in every role, the residue check, lab down. Prints the wall time and each drill's.

    python bench/gameday_rehearsal.py [--plan drills/gameday/quarterly.yaml] [--profile gameday]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import uuid

from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers
from drillbook.gameday import GameDayConsole, load_plan, run_plan
from drillbook.sla import get_profile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="drills/gameday/quarterly.yaml")
    parser.add_argument("--profile", default=None, help="default: the plan's")
    args = parser.parse_args()
    plan = load_plan(args.plan)
    profile = get_profile(args.profile or plan.profile)
    console = GameDayConsole(io.StringIO(), io.StringIO(), people=plan.people())
    started = time.monotonic()
    lab = DockerLab(LabSettings(name=f"bench-gameday-{uuid.uuid4().hex[:6]}"))
    try:
        lab.start()
        up = time.monotonic() - started
        outcome = run_plan(plan, lab, profile, console, rehearsal=True)
    finally:
        lab.stop()
        clean_leftovers(lab.client, lab.name)
    wall = time.monotonic() - started
    print(f"plan {plan.name!r}, profile {profile.name}, rehearsal")
    print(f"  lab up                     {up:6.1f} s")
    for r in outcome.results:
        recover = r.measured.get("time_to_recover", float("nan"))
        print(f"  {r.drill:<26} {r.wall_s:6.1f} s  {r.outcome} (recovered in {recover:.1f} s)")
    print(f"  residue                    {', '.join(outcome.residue) or 'none'}")
    print(f"  whole rehearsal            {wall:6.1f} s (lab up to lab down)")
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""``drillbook gameday PLAN``: a game-day plan run in the terminal, people in the loop."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from drillbook.cli._drills import print_summary, report_handlers
from drillbook.cli._subject import Subject, add_project_option, subject_of
from drillbook.cli._tier import REAL_NODES_HINT, SIMULATED_NODES, Tier, add_cluster_options
from drillbook.environments import LabLock
from drillbook.environments.docker import new_run_id
from drillbook.gameday import (
    GameDayAborted,
    GameDayConsole,
    GameDayResult,
    Plan,
    abort_on_signals,
    load_plan,
    plan_env,
    render_plan,
    run_plan,
)
from drillbook.reporting import JsonJournal
from drillbook.sla import PROFILES, Profile, get_profile

__all__ = ["register"]

EXIT_INTERRUPTED = 130


def register(sub: Any) -> None:
    game = sub.add_parser(
        "gameday",
        help="run a game-day plan: scenarios in order, people acknowledge and do steps",
        description="Run a game-day plan (drills/gameday/*.yaml) on a fresh Docker lab (or one "
        "that is up: --lab), or on Kubernetes (--env kubernetes: a lab context, else a local "
        "cluster of kwok or real nodes); a plan names the drills of one env. Each scenario is "
        "announced, injected and timed live against its budgets; at any prompt `n TEXT` adds a "
        "note and `a` aborts (Ctrl-C and SIGTERM abort at any moment: the fault is reverted and "
        "the lab removed, a --lab lab left up).",
    )
    game.add_argument(
        "plan",
        metavar="PLAN",
        help="the plan, e.g. drills/gameday/quarterly.yaml (--env kubernetes: "
        "drills/gameday/quarterly-kubernetes.yaml)",
    )
    add_cluster_options(game, started_for="game day")
    game.add_argument(
        "--rehearsal", action="store_true", help="automation plays every role (no prompts)"
    )
    game.add_argument(
        "--profile",
        default=None,
        choices=tuple(PROFILES),
        help="budgets and timing (default: the plan's, else gameday)",
    )
    game.add_argument(
        "--report", default="reports", metavar="DIR", help="report directory (default reports)"
    )
    lab = game.add_mutually_exclusive_group()
    lab.add_argument(
        "--name",
        default="drillbook-gameday",
        help="name of the lab (or local cluster) to start (default drillbook-gameday)",
    )
    lab.add_argument(
        "--lab",
        default=None,
        metavar="NAME",
        help="play on the Docker lab NAME that is already up (`drillbook lab up --name NAME`): "
        "not started, not removed",
    )
    game.add_argument(
        "--dry-run", action="store_true", help="print the plan: roles, budgets, who does what"
    )
    add_project_option(game)
    game.set_defaults(handler=_gameday)


def _gameday(args: argparse.Namespace) -> int:
    subject = subject_of(args)
    # --env, else the plan's env: (load_plan refuses an --env that is not it), else the default
    args.env = args.env or plan_env(args.plan) or subject.default_env
    plan = load_plan(
        args.plan, subject.drills(args.env), env=args.env, elsewhere=_elsewhere(subject, args.env)
    )
    profile = get_profile(args.profile or plan.profile)
    if args.dry_run:
        print(render_plan(plan, profile, rehearsal=args.rehearsal))
        return 0
    tier = Tier(args, subject)
    tier.check()
    # before anything is written or started: a lab in use is refused, naming its holder
    with LabLock(tier.name).held():
        tier.attach([s.drill for s in plan.scenarios])  # --lab: every service needed healthy
        name = subject.project.name if subject.project else ""
        return _play(args, plan, profile, tier, name)


def _elsewhere(subject: Subject, env: str) -> dict[str, list[str]]:
    """The drill names of the subject's other lab backends (a plan for one of them names
    them): the reference stack has both, a project those it has files for."""
    envs = subject.project.lab.envs if subject.project is not None else ("docker", "kubernetes")
    return {e: [d.name for d in subject.drills(e)] for e in envs if e != env}


def _play(
    args: argparse.Namespace, plan: Plan, profile: Profile, tier: Tier, project: str = ""
) -> int:
    run_id = new_run_id()
    base, reporters = report_handlers(
        args.report, run_id, profile.name, env=args.env, project=project
    )
    journal = next(h for h in reporters if isinstance(h, JsonJournal))
    for h in reporters:
        h.run_started(run_id, profile.name)
    section: dict[str, object] = {
        "plan": plan.name,
        "file": plan.source,
        "env": args.env,
        "rehearsal": args.rehearsal,
        "roles": {r.name: {"who": r.who, "description": r.description} for r in plan.roles},
        "scenarios": [s.drill.name for s in plan.scenarios],
    }
    journal.add("gameday", section)
    keep = bool(args.lab)  # a lab that was up before stays up, on every path
    console = GameDayConsole(sys.stdin, sys.stderr, people=plan.people(), keeps_lab=keep)
    console.current = plan.roles[0].who  # notes before anyone acknowledges: the first role's
    outcome = GameDayResult(())
    evidence = base / "evidence"
    console.start_ticker()
    try:
        with abort_on_signals(console):
            try:
                # before the lab starts, so that the header counts only what will be played
                plan, left_out = _runnable(plan, tier, section)
                console.say(header(plan, left_out, profile.name, args.env, run_id, args.rehearsal))
                lab = tier.start(say=console.say)
                outcome = run_plan(
                    plan,
                    lab,
                    profile,
                    console,
                    rehearsal=args.rehearsal,
                    handlers=reporters,
                    evidence_dir=evidence,
                    runner=lambda p, h, operator: tier.runner(p, h, evidence, operator),
                    state=tier.state,
                )
            except GameDayAborted as exc:  # before or between scenarios (lab start)
                outcome = GameDayResult(outcome.results, aborted=exc.how)
            finally:
                console.finishing = True  # the lab is being removed: a Ctrl-C now waits for it
                section["aborted"] = outcome.aborted or console.pending or None
                journal.add("gameday", section)
                if not (outcome.aborted or console.pending):  # before the page renders it
                    base.mkdir(parents=True, exist_ok=True)
                    (base / "residue.json").write_text(
                        json.dumps({"residue": list(outcome.residue)}) + "\n"
                    )
                for h in reporters:
                    h.run_finished(list(outcome.results))
                if not keep:
                    tier.stop()
    finally:
        console.close()
    base.mkdir(parents=True, exist_ok=True)
    if console.pending and not outcome.aborted:  # Ctrl-C while the lab was being removed
        outcome = GameDayResult(outcome.results, outcome.residue, console.pending)
    if outcome.aborted:
        left = "left up (--lab)" if keep else "removed"
        name = tier.lab.name if tier.lab is not None else tier.name
        print(
            f"game day aborted ({outcome.aborted}): the fault was reverted and lab "
            f"{name!r} {left}; report: {base}/",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print_summary(list(outcome.results), list(outcome.residue), base)
    # a plan whose every scenario was left out (kwok nodes) proved nothing
    return 0 if outcome.passed and outcome.results else 1


def header(
    plan: Plan,
    left_out: Sequence[str],
    profile: str,
    env: str,
    run_id: str,
    rehearsal: bool = False,
) -> str:
    """The game day's opening lines: how many scenarios ``plan`` will play and, when the lab
    cannot run some (``left_out``), how many and why."""
    mode = " (rehearsal: automation plays every role)" if rehearsal else ""
    out = f", {len(left_out)} left out" if left_out else ""
    lines = [
        f"game day {plan.name!r}{mode}: {len(plan.scenarios)} scenario(s) to play{out}, "
        f"profile {profile}, env {env}, run {run_id}"
    ]
    if left_out:
        need = "it needs" if len(left_out) == 1 else "they need"
        lines.append(
            f"    left out on {SIMULATED_NODES}: {', '.join(left_out)} ({need} {REAL_NODES_HINT})"
        )
    lines.append("    at any prompt: n TEXT adds a note, a aborts; Ctrl-C aborts at any moment")
    return "\n".join(lines)


def _runnable(plan: Plan, tier: Tier, section: dict[str, object]) -> tuple[Plan, list[str]]:
    """The plan without the scenarios the lab cannot run (on kwok nodes, those that need
    processes), and their names, recorded in the journal's game-day section with why."""
    out = {d.name for d in tier.left_out([s.drill for s in plan.scenarios])}
    left_out = [s.drill.name for s in plan.scenarios if s.drill.name in out]
    if not left_out:
        return plan, []
    section["left_out"] = left_out
    section["left_out_reasons"] = dict.fromkeys(
        left_out, f"on {SIMULATED_NODES}, it needs {REAL_NODES_HINT}"
    )
    kept = tuple(s for s in plan.scenarios if s.drill.name not in out)
    return replace(plan, scenarios=kept), left_out

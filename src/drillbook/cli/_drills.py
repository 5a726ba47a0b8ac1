"""``drillbook run | list``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from drillbook.cli._abort import AbortAfterRevert
from drillbook.cli._subject import add_project_option, subject_of
from drillbook.cli._table import table
from drillbook.cli._tier import Tier, add_cluster_options
from drillbook.drills import ConsoleOperator, residue
from drillbook.drills.catalog import select
from drillbook.environments import LabLock
from drillbook.environments.docker import new_run_id
from drillbook.reporting import (
    AllureResults,
    HtmlReport,
    JsonJournal,
    JUnitXml,
    RunEventHandler,
    RunHistory,
    git_commit,
)
from drillbook.sla import DrillResult, Mark, get_profile

__all__ = ["print_summary", "register", "report_handlers"]


def register(sub: Any) -> None:
    run = sub.add_parser(
        "run", help="run drills on a fresh lab (or one that is up: --lab) and write a report"
    )
    run.add_argument(
        "drills", nargs="*", metavar="DRILL", help="drill or alert names (default: all)"
    )
    add_cluster_options(run)
    run.add_argument(
        "--profile",
        default="ci",
        choices=("ci", "nightly", "gameday"),
        help="budgets and timing (default ci)",
    )
    run.add_argument(
        "--report", default="reports", metavar="DIR", help="report directory (default reports)"
    )
    run.add_argument(
        "--runbook", default=None, metavar="FILE", help="the runbook to take budgets from"
    )
    add_project_option(run)
    lab = run.add_mutually_exclusive_group()
    lab.add_argument(
        "--name", default="drillbook-run", help="name of the lab to start (default drillbook-run)"
    )
    lab.add_argument(
        "--lab",
        default=None,
        metavar="NAME",
        help="drill the Docker lab NAME that is already up (`drillbook lab up --name NAME`): "
        "not started, not removed",
    )
    run.add_argument("--dry-run", action="store_true", help="print the plan and touch nothing")
    run.add_argument("--keep-lab", action="store_true", help="leave the lab up afterwards")
    run.add_argument(
        "--human",
        action="store_true",
        help="game day: a human acknowledges each alert and may do runbook steps by hand "
        "(prompts on the terminal; the clock records who did what)",
    )
    run.set_defaults(handler=_run)

    lst = sub.add_parser("list", help="each drill with its alert, fault and budgets")
    lst.add_argument("--runbook", default=None, metavar="FILE")
    lst.add_argument(
        "--env",
        default=None,
        choices=("docker", "kubernetes"),
        help="docker (default; a project of manifests only: kubernetes)",
    )
    add_project_option(lst)
    lst.set_defaults(handler=_list)


def _list(args: argparse.Namespace) -> int:
    subject = subject_of(args)
    rows = [
        (
            d.name,
            d.alert,
            d.fault.name,
            ", ".join(f"{b.measure}<={b.seconds:g}s" for b in d.budgets),
        )
        for d in subject.drills(args.env or subject.default_env)
    ]
    print(table(["drill", "alert", "fault", "budgets (from the runbook)"], rows))
    return 0


class _Console(RunEventHandler):
    def phase(self, drill: Any, mark: Mark) -> None:
        step = f" [{mark.step}]" if mark.step else ""
        print(f"    {mark.phase.value}{step} {mark.detail}".rstrip(), file=sys.stderr)

    def drill_finished(self, drill: Any, result: DrillResult) -> None:
        print(
            f"  {result.drill}: {result.outcome.upper()} in {result.wall_s:.1f}s"
            + (f": {result.error.splitlines()[0]}" if result.error else ""),
            file=sys.stderr,
        )


class _Results(RunEventHandler):
    """Every drill that finished, also one whose run ended in an abort: what the run reports."""

    def __init__(self) -> None:
        self.results: list[DrillResult] = []

    def drill_finished(self, drill: Any, result: DrillResult) -> None:
        self.results.append(result)


def _run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    subject = subject_of(args)
    args.env = args.env or subject.default_env
    drills = select(subject.drills(args.env), list(args.drills))
    if args.dry_run:
        for d in drills:
            print(
                f"{d.name} ({d.alert}): inject {d.fault.name}; "
                f"probes {', '.join(p.name for p in d.probes)}"
            )
            for step in d.steps:
                print(f"    step: {step.name}  [{step.runbook}]")
            for b in (profile.tighten(b) for b in d.budgets):
                print(f"    budget: {b.measure} <= {b.seconds:g}s  ({b.source})")
        print(f"dry run: {len(drills)} drill(s), profile {profile.name}; nothing was touched")
        return 0
    tier = Tier(args, subject)
    tier.check()
    # before anything is written or started: a lab in use is refused, naming its holder
    with LabLock(tier.name).held():
        tier.attach(drills)
        return _run_on(args, tier, profile, drills)


def _run_on(args: argparse.Namespace, tier: Tier, profile: Any, drills: list[Any]) -> int:
    run_id = new_run_id()
    project = tier.subject.project
    base, reporters = report_handlers(
        args.report, run_id, profile.name, env=args.env, project=project.name if project else ""
    )
    # an abort while a drill reverts waits for it, and notes it on the drill the reporters write
    abort, collect = AbortAfterRevert(), _Results()
    handlers: list[RunEventHandler] = [_Console(), abort, collect, *reporters]
    for h in handlers:
        h.run_started(run_id, profile.name)
    print(
        f"run {run_id}: {len(drills)} drill(s) of {tier.subject.label}, profile "
        f"{profile.name}, env {args.env}",
        file=sys.stderr,
    )
    results = collect.results
    left: list[str] = []
    try:
        with abort.signals():
            tier.start()
            drills = tier.runnable(drills)
            before = tier.state()
            operator = ConsoleOperator() if args.human else None
            runner = tier.runner(profile, handlers, base / "evidence", operator)
            for d in drills:
                print(f"  {d.name} ({d.alert})", file=sys.stderr)
                runner.run(d)
                abort.stop_if_pending()
            # no drill may leave residue: the lab must be as the run found it
            left = residue(before, tier.state())
            base.mkdir(parents=True, exist_ok=True)
            (base / "residue.json").write_text(json.dumps({"residue": left}, indent=2) + "\n")
    finally:
        for h in handlers:
            h.run_finished(results)
        tier.stop()
    print_summary(results, left, base)
    return 0 if results and all(r.passed for r in results) and not left else 1


def report_handlers(
    report: str, run_id: str, profile: str, *, env: str = "docker", project: str = ""
) -> tuple[Path, list[RunEventHandler]]:
    """A run's report directory (``<report>/<run-id>``) and its reporters: journal.json,
    allure-results/, junit.xml, index.html and a line of ``<report>/history.jsonl``
    (``drillbook run`` and ``drillbook gameday``). ``project``: the drill project's name,
    recorded in the journal and the history ("" for the reference stack)."""
    base = Path(report) / run_id
    journal = JsonJournal(Path(report), run_id, profile)
    if project:
        journal.data["project"] = project
    return base, [
        journal,
        AllureResults(base / "allure-results", profile),
        JUnitXml(base / "junit.xml"),
        # after the journal: both render its data at the end of the run
        HtmlReport(journal),
        RunHistory(journal, Path(report) / "history.jsonl", env=env, commit=git_commit()),
    ]


def print_summary(results: list[DrillResult], left: list[str], base: Path) -> None:
    """The results table, the residue and where the report is."""
    print(
        table(
            ["drill", "alert", "outcome", "probe s", "alert s", "recover s", "clear s", "wall s"],
            [
                (
                    r.drill,
                    r.alert,
                    r.outcome,
                    r.measured.get("time_to_detect", "-"),
                    r.measured.get("time_to_alert", "-"),
                    r.measured.get("time_to_recover", "-"),
                    r.measured.get("time_to_clear", "-"),
                    f"{r.wall_s:.1f}",
                )
                for r in results
            ],
        )
    )
    if left:
        print(f"residue: the drills left {len(left)} change(s) in the lab:", file=sys.stderr)
        for line in left:
            print(f"  {line}", file=sys.stderr)
    else:
        print("residue: none (the lab is as the run found it)")
    print(f"report: {base}/ (index.html, journal.json, junit.xml, allure-results/, residue.json)")

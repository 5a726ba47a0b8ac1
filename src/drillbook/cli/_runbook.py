"""``drillbook runbook show | check``: the runbook as drillbook reads it, and its regression
checks (every command and query executed and checked)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from drillbook.checks import (
    ENVS,
    FORMATS,
    Baseline,
    CheckOptions,
    render,
    run_check,
    run_project_check,
)
from drillbook.drills import default_runbook
from drillbook.drills._budgets import DEFAULT_RUNBOOK
from drillbook.errors import ConfigError
from drillbook.runbook import Runbook, load_runbook, render_runbook, runbook_to_json

__all__ = ["register", "runbook_of"]


def register(sub: Any) -> None:
    rb = sub.add_parser("runbook", help="the runbook as drillbook reads it, and its checks")
    rsub = rb.add_subparsers(dest="runbook_command", required=True, metavar="ACTION")
    show = rsub.add_parser("show", help="print the parsed runbook (errors with line numbers)")
    show.add_argument("file", nargs="?", default=None, metavar="RUNBOOK.md")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    check = rsub.add_parser(
        "check",
        help="execute and check every command and query of the runbook",
        description="Coverage (alerts, procedures, drills, alert rules, budgets), kubectl "
        "against the manifests, HTTP calls and ports against the stack's contract, commands "
        "that cannot work as written; with --env docker also every SQL statement on the lab's "
        "database and the binaries in its containers; with --env kubernetes the kubectl "
        "commands against a live API server (reads, server-side dry-runs), and on real nodes "
        "the SQL, binaries and HTTP GETs in the pods. Exit 0: no new "
        "finding; 1: new findings; 2: bad input.",
    )
    check.add_argument("file", nargs="?", default=None, metavar="RUNBOOK.md")
    check.add_argument(
        "--env",
        default="docker",
        choices=ENVS,
        help="docker (default: a Docker lab for SQL and binaries), kubernetes (a local "
        "control plane, or --kubeconfig/--context of a lab context), offline (no lab)",
    )
    check.add_argument("--format", default="text", choices=FORMATS)
    check.add_argument("--output", default=None, metavar="FILE", help="write the report here")
    check.add_argument(
        "--baseline", default=None, metavar="FILE", help="accepted findings: only new ones fail"
    )
    check.add_argument(
        "--write-baseline",
        default=None,
        metavar="FILE",
        help="accept every finding of this run into FILE (reasons already there are kept)",
    )
    lab = check.add_mutually_exclusive_group()
    lab.add_argument("--name", default="drillbook-check", help="name of the lab to start")
    lab.add_argument(
        "--lab",
        default=None,
        metavar="NAME",
        help="with --env docker: check on the lab NAME that is already up (`drillbook lab up "
        "--name NAME`): not started, not removed",
    )
    check.add_argument("--kubeconfig", default=None, help="with --env kubernetes")
    check.add_argument("--context", default=None, help="with --env kubernetes: a lab context")
    from drillbook.cli._subject import add_project_option

    add_project_option(check)
    check.set_defaults(handler=_check)


def runbook_of(path: str | None) -> Runbook:
    return load_runbook(path) if path else default_runbook()


def _show(args: argparse.Namespace) -> int:
    runbook = runbook_of(args.file)
    if args.json:
        print(json.dumps(runbook_to_json(runbook), indent=2))
    else:
        print(render_runbook(runbook))
    return 0


def _project_report(args: argparse.Namespace, baseline: Baseline | None) -> Any:
    """The check of a drill project's runbook (``--project``, or ./drillbook.yaml), or None
    for the reference stack."""
    from drillbook.cli._subject import subject_of
    from drillbook.environments import LabLock
    from drillbook.environments.docker import DockerLab, existing_lab
    from drillbook.project import PROJECT_FILE

    if args.project is None and not Path(PROJECT_FILE).is_file():
        return None  # the reference stack: run_check reads FILE (a missing one named there)
    subject = subject_of(args, runbook_arg="file")
    project = subject.project
    if project is None or project.lab.builtin:
        return None
    say = lambda msg: print(f"  {msg}", file=sys.stderr)  # noqa: E731
    drills = subject.drills("docker")
    common = {"env": args.env, "rules": project.alert_rules, "roles": project.roles.roles}
    if args.env != "docker":
        return run_project_check(Path(project.runbook.source), drills, baseline=baseline, **common)
    if args.lab:
        with LabLock(args.lab).held():
            lab = existing_lab(args.lab, settings=subject.lab_settings(args.lab))
            return run_project_check(
                Path(project.runbook.source), drills, lab=lab, baseline=baseline, say=say, **common
            )
    lab = DockerLab(subject.lab_settings(args.name))
    with LabLock(args.name).held():
        try:
            lab.start(on_event=say)
            return run_project_check(
                Path(project.runbook.source), drills, lab=lab, baseline=baseline, say=say, **common
            )
        finally:
            lab.stop()


def _check(args: argparse.Namespace) -> int:
    baseline = Baseline.load(Path(args.baseline)) if args.baseline else None
    report = _project_report(args, baseline)
    if report is not None:
        return _finish(args, report, baseline)
    path = Path(args.file) if args.file else DEFAULT_RUNBOOK
    if not path.is_file():
        raise ConfigError(f"runbook {path}: no such file")
    with contextlib.suppress(ValueError):  # shown as the user would type it
        path = path.resolve().relative_to(Path.cwd())
    options = CheckOptions(path, args.env, args.name, args.kubeconfig, args.context, lab=args.lab)
    report = run_check(options, baseline, say=lambda msg: print(f"  {msg}", file=sys.stderr))
    return _finish(args, report, baseline)


def _finish(args: argparse.Namespace, report: Any, baseline: Baseline | None) -> int:
    text = render(report, args.format)
    if args.output:
        Path(args.output).write_text(text + "\n")
        print(f"report: {args.output}", file=sys.stderr)
    else:
        print(text)
    if args.write_baseline:
        target = Path(args.write_baseline)
        previous = Baseline.load(target) if target.exists() else baseline
        Baseline.write(target, report.findings, previous)
        print(f"baseline: {len(report.findings)} finding(s) accepted in {target}", file=sys.stderr)
        return 0
    if baseline is not None:
        gone = baseline.gone(report.findings)
        if gone:
            print(
                f"{len(gone)} accepted finding(s) no longer reported (fixed, or not checked "
                f"with --env {args.env}): {', '.join(a.code for a in gone[:5])}"
                + (" ..." if len(gone) > 5 else ""),
                file=sys.stderr,
            )
    new = len(report.new)
    print(
        f"runbook check: {len(report.findings)} finding(s), {new} new"
        + (f" (baseline {args.baseline})" if args.baseline else ""),
        file=sys.stderr,
    )
    return 1 if report.failed else 0

"""``drillbook report html | trends | allure``: render any run, and the trends across runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from drillbook.cli._table import table
from drillbook.reporting import (
    AllureCommandLine,
    TrendPolicy,
    find_regressions,
    read_history,
    write_run_html,
)
from drillbook.reporting.html import render_trends

__all__ = ["register"]


def register(sub: Any) -> None:
    report = sub.add_parser("report", help="HTML report of a run, trends across runs, Allure")
    rsub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")

    html = rsub.add_parser("html", help="render RUN_DIR/journal.json to RUN_DIR/index.html")
    html.add_argument("run_dir", metavar="RUN_DIR", help="reports/<run-id>/ (or its journal.json)")
    html.add_argument("--output", default=None, metavar="FILE", help="default RUN_DIR/index.html")
    html.set_defaults(handler=_html)

    trends = rsub.add_parser("trends", help="MTTD and MTTR per drill across runs; flag regressions")
    trends.add_argument(
        "--history",
        default="reports/history.jsonl",
        metavar="FILE",
        help="the history drillbook run appends to (default reports/history.jsonl)",
    )
    trends.add_argument(
        "--last",
        type=int,
        default=10,
        metavar="N",
        help="compare with the median of the previous N runs (default 10)",
    )
    trends.add_argument(
        "--threshold",
        type=float,
        default=0.25,
        help="regression: latest above (1 + threshold) x that median (default 0.25)",
    )
    trends.add_argument(
        "--min-delta",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="and at least this many seconds above it (default 1.0)",
    )
    trends.add_argument(
        "--min-runs",
        type=int,
        default=3,
        metavar="N",
        help="judge a measure only with N previous runs measuring it (default 3)",
    )
    trends.add_argument("--profile", default=None, help="only runs of this profile")
    trends.add_argument(
        "--project",
        default=None,
        metavar="DIR",
        help="only runs of this drill project (its drillbook.yaml names it); default: every run",
    )
    trends.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="write the trends page (default: trends.html beside the history)",
    )
    trends.add_argument(
        "--fail-on-regression", action="store_true", help="exit 1 when any regression (CI)"
    )
    trends.set_defaults(handler=_trends)

    allure = rsub.add_parser("allure", help="render RUN_DIR/allure-results with the Allure CLI")
    allure.add_argument("run_dir", metavar="RUN_DIR", help="reports/<run-id>/")
    allure.add_argument(
        "--output", default=None, metavar="DIR", help="default RUN_DIR/allure-report"
    )
    allure.add_argument(
        "--allure",
        default=None,
        metavar="PATH",
        help="the allure executable (default: $DRILLBOOK_ALLURE, .tools/, PATH)",
    )
    allure.set_defaults(handler=_allure)


def _html(args: argparse.Namespace) -> int:
    path = write_run_html(Path(args.run_dir), Path(args.output) if args.output else None)
    print(f"report: {path}")
    return 0


def _trends(args: argparse.Namespace) -> int:
    policy = TrendPolicy(args.last, args.threshold, args.min_delta, args.min_runs)
    path = Path(args.history)
    history = read_history(path)
    if args.profile:
        history = [r for r in history if r.profile == args.profile]
    if args.project:
        from drillbook.project import load_project

        name = load_project(args.project).name
        history = [r for r in history if r.project == name]
    if not history:
        print(f"no runs in {path}" + (f" with profile {args.profile}" if args.profile else ""))
        return 0
    regressions = find_regressions(history, policy)
    output = Path(args.output) if args.output else path.with_name("trends.html")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_trends(history, regressions, policy))
    if regressions:
        print(
            table(
                ["drill", "measure", "run", "latest s", "median s", "runs"],
                [
                    (
                        r.drill,
                        r.measure if r.measure != "outcome" else f"outcome {r.was}->{r.now}",
                        r.run_id,
                        "-" if r.latest is None else f"{r.latest:.1f}",
                        "-" if r.baseline is None else f"{r.baseline:.1f}",
                        r.runs,
                    )
                    for r in regressions
                ],
            )
        )
        for r in regressions:
            print(f"regression: {r.describe()}", file=sys.stderr)
    else:
        print(f"no regressions in {len(history)} run(s)")
    print(f"trends: {output}")
    return 1 if regressions and args.fail_on_regression else 0


def _allure(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    output = Path(args.output) if args.output else run_dir / "allure-report"
    AllureCommandLine(args.allure).generate(run_dir / "allure-results", output)
    print(f"allure report: {output}/index.html (serve it: allure open {output})")
    return 0

"""``drillbook experiments export | check``: the catalogue's drills as Chaos Toolkit
experiments, and a check of experiment files before ``chaos run``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]

RULES = Path(__file__).resolve().parents[3] / "fixtures" / "monitoring" / "rules"


def register(sub: Any) -> None:
    experiments = sub.add_parser(
        "experiments", help="the catalogue's drills as Chaos Toolkit experiments"
    )
    verbs = experiments.add_subparsers(dest="verb", required=True, metavar="VERB")
    export = verbs.add_parser("export", help="write experiments/<drill>.yaml for every drill")
    export.add_argument("--dir", default="experiments", help="where (default: experiments)")
    export.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when a file is missing or differs from the catalogue",
    )
    export.set_defaults(handler=_export)
    check = verbs.add_parser(
        "check", help="check experiment files: shape, drillbook activities and their arguments"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    from drillbook.experiments import check_experiment

    for name in args.files:
        summary = check_experiment(Path(name))  # ConfigError: FILE:LINE: FIELD: expected
        print(f"{summary.path}: ok ({summary.activities} activities): {summary.title}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from drillbook.detection import load_rules
    from drillbook.drills.chaos import export_experiments

    alerts = {r.name for path in sorted(RULES.glob("*.yml")) for r in load_rules(path)}
    folder = Path(args.dir)
    stale = []
    for path, text in export_experiments(folder, alerts).items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if args.check and stale:
        for path in stale:
            print(f"out of date: {path} (run `drillbook experiments export`)", file=sys.stderr)
        return 1
    if not stale:
        print(f"{folder}/: every drill's experiment is up to date")
    return 0

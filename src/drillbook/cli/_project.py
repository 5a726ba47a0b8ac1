"""``drillbook check-project [DIR]`` and ``drillbook init DIR``: drill projects as files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from drillbook.errors import ConfigError
from drillbook.project import PROJECT_FILE, init_project, load_project

__all__ = ["register"]


def register(sub: Any) -> None:
    check = sub.add_parser(
        "check-project",
        help="validate a drill project (drillbook.yaml, runbook, lab, drills); starts nothing",
        description=f"Read DIR/{PROJECT_FILE}, the runbook, the Compose file or manifests and "
        "every drill file it names, and check them without starting anything. Exit 0 with a "
        "one-line summary; 2 naming FILE:LINE: field: what was expected (every TODO left by "
        "drillbook init is listed, each with its file and line).",
    )
    check.add_argument("directory", nargs="?", default=".", metavar="DIR", help="default: .")
    check.set_defaults(handler=_check)
    init = sub.add_parser(
        "init",
        help="scaffold a drill project from a runbook and a Compose file or manifests",
        description="Write DIR/drillbook.yaml and DIR/drills/*.yaml: one drill skeleton per "
        "alert and per procedure of the runbook, budgets from its text, TODO wherever a step "
        "needs a command (or the fault and probes need choosing). Refuses to overwrite a project.",
    )
    init.add_argument("directory", metavar="DIR")
    init.add_argument("--runbook", required=True, metavar="R.md", help="the runbook (Markdown)")
    init.add_argument("--compose", default=None, metavar="C.yaml", help="the Compose file")
    init.add_argument(
        "--manifests",
        nargs="+",
        default=(),
        metavar="M.yaml",
        help="Kubernetes manifests (without --compose: Kubernetes drills whose kubectl lines "
        "are bound as the runbook writes them)",
    )
    init.set_defaults(handler=_init)


def _check(args: argparse.Namespace) -> int:
    project = load_project(args.directory)
    if project.todos:
        listing = "\n".join(f"  {t}" for t in project.todos)
        raise ConfigError(
            f"{project.root / PROJECT_FILE}: {len(project.todos)} TODO(s) left:\n{listing}",
            hint="bind each step to a verb, run: or kubectl:, and choose each fault and probe",
        )
    print(project.summary())
    return 0


def _init(args: argparse.Namespace) -> int:
    written = init_project(args.directory, args.runbook, args.compose, tuple(args.manifests))
    drills = written[0].parent / "drills"
    print(f"wrote {written[0]} and {len(written) - 1} drill skeleton(s) under {drills}")
    print(
        f"next: fill in the TODOs, then drillbook check-project {args.directory}", file=sys.stderr
    )
    return 0

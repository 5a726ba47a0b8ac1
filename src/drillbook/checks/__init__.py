"""Runbook regression checks: every command and query in the runbook, executed and checked.

``drillbook runbook check``: coverage (alerts and procedures against drills, alert rules and
budgets), SQL on the lab's real PostgreSQL, kubectl against the manifests and a live API
server, HTTP calls and ports against the stack's contract, commands that cannot work as
written; a baseline of accepted findings so CI fails only on new ones.
"""

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.checks._project import run_project_check
from drillbook.checks._run import (
    ENVS,
    CheckOptions,
    Project,
    docker_checks,
    offline_checks,
    run_check,
)
from drillbook.checks.baseline import Accepted, Baseline
from drillbook.checks.report import FORMATS, CheckReport, render

__all__ = [
    "ENVS",
    "FORMATS",
    "Accepted",
    "Baseline",
    "CheckOptions",
    "CheckReport",
    "Finding",
    "Project",
    "RunbookDoc",
    "docker_checks",
    "offline_checks",
    "render",
    "run_check",
    "run_project_check",
]

"""Budgets for a drill, read from the runbook's own text: its response time and escalation."""

from __future__ import annotations

from pathlib import Path

from drillbook.runbook import Runbook, load_runbook
from drillbook.sla import Budget

__all__ = ["DEFAULT_RUNBOOK", "budgets_for", "default_runbook", "stage_name", "window_budgets"]

DEFAULT_RUNBOOK = Path(__file__).resolve().parents[3] / "fixtures" / "operational-runbooks.md"


def default_runbook() -> Runbook:
    """The project's copy of the runbook (fixtures/operational-runbooks.md)."""
    return load_runbook(DEFAULT_RUNBOOK)


def budgets_for(runbook: Runbook, alert_name: str) -> tuple[Budget, ...]:
    """``time_to_respond`` from the alert's Response Time and ``time_to_recover`` from its first
    escalation threshold, each citing the runbook line it came from."""
    alert = runbook.alert(alert_name)
    where = Path(runbook.source).name
    respond = alert.respond_budget
    budgets = [
        Budget(
            "time_to_respond",
            respond.seconds,
            f"{where}:{respond.line} {alert.name} Response Time: {respond.text}",
        )
    ]
    restore = alert.restore_budget
    if restore is not None:
        budgets.append(
            Budget("time_to_recover", restore.seconds, f"{where}:{restore.line} {restore.text}")
        )
    return tuple(budgets)


def stage_name(procedure_title: str) -> str:
    """ "Immediate Actions (< 5 minutes)" -> "Immediate Actions": the stage a step belongs to."""
    return procedure_title.split(" (", 1)[0].strip()


def window_budgets(runbook: Runbook, *path: str) -> tuple[Budget, ...]:
    """A ``window:<stage>`` budget for every stage under ``path`` whose heading states a window
    ("Investigation (< 30 minutes)"), each citing its line."""
    where = Path(runbook.source).name
    prefix = tuple(path)
    found = [
        Budget(
            f"window:{stage_name(p.path[-1])}",
            p.window.seconds,
            f"{where}:{p.window.line} {' / '.join(p.path[1:])}",
        )
        for p in runbook.procedures
        if p.path[: len(prefix)] == prefix and p.window is not None and p.window.kind == "window"
    ]
    if not found:
        raise KeyError(f"the runbook states no time window under {' / '.join(path)!r}")
    return tuple(found)

"""Budgets for a drill, read from the runbook's own text: its response time and escalation."""

from __future__ import annotations

from pathlib import Path

from drillbook.runbook import Runbook, load_runbook
from drillbook.sla import Budget

__all__ = ["DEFAULT_RUNBOOK", "budgets_for", "default_runbook"]

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

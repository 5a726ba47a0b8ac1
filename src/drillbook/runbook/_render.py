"""The parsed runbook for people (text) and for programs (JSON)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drillbook.runbook._model import Budget, Runbook, Step

__all__ = ["render_runbook", "runbook_to_json"]


def _secs(budget: Budget | None) -> str:
    if budget is None:
        return "-"
    s = budget.seconds
    return f"{s / 3600:g} h" if s >= 3600 else f"{s / 60:g} min" if s >= 60 else f"{s:g} s"


def _steps(steps: tuple[Step, ...], indent: str) -> list[str]:
    out = []
    for step in steps:
        out.append(f"{indent}{step.number}. {step.title}  (line {step.line})")
        for cmd in step.commands:
            out.append(f"{indent}   $ {cmd.text}")
            if cmd.placeholders:
                out.append(
                    f"{indent}     placeholders: "
                    + ", ".join(f"<{p.name}>" for p in cmd.placeholders)
                )
            for sql in cmd.sql:
                out.append(f"{indent}     sql{' (meta)' if sql.meta else ''}: {sql.text}")
    return out


def render_runbook(runbook: Runbook) -> str:
    lines = [f"{runbook.title}  ({runbook.source})", "", "Alerts:"]
    for a in runbook.alerts:
        lines.append(
            f"  {a.name} [{a.severity}] respond within {_secs(a.respond_budget)}, "
            f"restore within {_secs(a.restore_budget)}  (line {a.line})"
        )
        lines += _steps(a.investigation, "    investigate ")
        lines += _steps(a.resolution, "    resolve ")
        for rule in a.escalation:
            lines.append(
                f"    escalate: {rule.text}"
                + (f"  [{_secs(rule.threshold)}]" if rule.threshold else "")
            )
    lines += ["", "Procedures:"]
    for p in runbook.procedures:
        window = f", window {_secs(p.window)}" if p.window else ""
        lines.append(f"  {p.name} [{p.category}{window}]  (line {p.line})")
        lines += _steps(p.steps, "    ")
    return "\n".join(lines)


def runbook_to_json(runbook: Runbook) -> dict[str, Any]:
    data: dict[str, Any] = asdict(runbook)
    for alert, original in zip(data["alerts"], runbook.alerts, strict=True):
        alert["restore_budget"] = (
            asdict(original.restore_budget) if original.restore_budget else None
        )
    return data

"""Synthetic drill results and journals for report tests, built with the real clock and
budget evaluation (only the time is fake)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drillbook.reporting import JsonJournal
from drillbook.reporting._health import HealthLog
from drillbook.sla import Budget, DrillResult, IncidentClock, Phase, evaluate

__all__ = ["load", "synthetic_result", "write_journal"]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def synthetic_result(
    name: str = "backend-killed",
    *,
    recover_at: float = 6.0,
    recover_budget: float = 22.5,
    steps: tuple[tuple[str, float], ...] = (("rollout restart deployment/backend", 1.3),),
    recovered: bool = True,
    health: HealthLog | None = None,
) -> DrillResult:
    """A TradingBotDown drill: fault in effect at 1 s, detected at 2.2 s, alert at 4 s, steps,
    recovered at 1 + ``recover_at`` s (or never), verified, reverted."""
    t = _Clock()
    clock = IncidentClock(clock=t, wall=lambda: 1_700_000_000.0 + t.now)
    budgets = [
        Budget("time_to_detect", 15, "ci limit"),
        Budget("time_to_alert", 6.5, "detection bound 6.5s = ..."),
        Budget("time_to_respond", 30, "operational-runbooks.md:88 Response Time (< 2 minutes)"),
        Budget("time_to_recover", recover_budget, "operational-runbooks.md:91 <escalate> & more"),
    ]

    def at(seconds: float, phase: Phase, detail: str = "", **kw: Any) -> None:
        t.now = 1000.0 + seconds
        clock.mark(phase, detail, **kw)
        if health is not None and phase in (Phase.ACTIVE, Phase.RECOVERED):
            ok = phase == Phase.RECOVERED  # failing from the fault in effect until recovered
            health.add(name, t.now, ok, "all probes pass" if ok else "backend: refused")

    if health is not None:
        health.reset(name)
        health.add(name, 999.0, True, "all probes pass")
    at(0.0, Phase.STEADY_STATE)
    at(0.5, Phase.INJECTED, "KillContainer(backend)")
    at(1.0, Phase.ACTIVE, "KillContainer(backend)")
    at(2.2, Phase.DETECTED_PROBE, "backend: connection refused")
    at(4.0, Phase.DETECTED_ALERT, "TradingBotDown firing (webhook #3)")
    at(4.1, Phase.RESPONDED, "automation")
    s = 4.2
    for step, duration in steps:
        at(s, Phase.STEP_STARTED, "operational-runbooks.md:97 kubectl rollout restart", step=step)
        s += duration
        at(s, Phase.STEP_FINISHED, "by automation", step=step)
    if recovered:
        at(1.0 + recover_at, Phase.RECOVERED, "healthy for 2s")
        at(1.0 + recover_at + 3.0, Phase.ALERT_RESOLVED, "TradingBotDown resolved")
        at(1.0 + recover_at + 3.2, Phase.VERIFIED)
        end = 1.0 + recover_at + 3.5
    else:
        end = 1.0 + recover_budget + 1.0
        t.now = 1000.0 + end
    at(end, Phase.REVERTED, "KillContainer(backend)")
    result = DrillResult(name, "TradingBotDown", "passed", clock.marks, budgets)
    result.breaches = evaluate(clock, budgets)
    if result.breaches:
        result.outcome = "breached"
        result.error = str(result.breaches[0].error())
    from drillbook.drills._runner import _measured

    result.measured = _measured(clock, budgets)
    result.steps = clock.step_durations()
    result.reverted = result.steady_after = True
    result.wall_s = end + 2.0
    return result


def write_journal(directory: Path, run_id: str, *specs: dict[str, Any]) -> Path:
    """A journal.json as ``drillbook run`` writes it, through the real JsonJournal: one drill
    per spec (``synthetic_result``'s keyword arguments), health recorded as the runner does."""
    journal = JsonJournal(directory, run_id, "ci")
    journal.run_started(run_id, "ci")
    results = []
    for spec in specs:
        result = synthetic_result(**spec, health=journal.health_log)
        journal.drill_finished(_Named(result.drill), result)
        results.append(result)
    journal.run_finished(results)
    return journal.path


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name
        self.alert = "TradingBotDown"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data

"""A run's journal read back as typed values, so any run (an old one too) can be rendered.

The reader is tolerant of what older journals lack (health, notes, roles) and strict about what
is there: a field of the wrong type is a ``ConfigError`` naming the file and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drillbook.errors import ConfigError
from drillbook.reporting.html._fields import Fields
from drillbook.reporting.html._gameday import GameDayView, gameday_from_data
from drillbook.sla import Phase, measure_named

__all__ = [
    "BreachView",
    "BudgetView",
    "Deadline",
    "DrillView",
    "HealthView",
    "MarkView",
    "NoteView",
    "RunView",
    "SlaRow",
    "StepBar",
    "deadlines",
    "drill_from_entry",
    "load_run",
    "run_from_data",
    "step_bars",
]


# the SLA table in the order an incident unfolds; stage windows close before recovery
_ORDER = {
    "time_to_detect": 0,
    "time_to_alert": 1,
    "time_to_respond": 2,
    "window": 3,
    "time_to_recover": 4,
    "time_to_clear": 5,
}


@dataclass(frozen=True)
class MarkView:
    phase: str
    t_s: float  # seconds since the drill's first mark
    detail: str = ""
    step: str | None = None
    actor: str = "automation"
    wall: float | None = None


@dataclass(frozen=True)
class BudgetView:
    measure: str
    seconds: float
    source: str = ""


@dataclass(frozen=True)
class BreachView:
    measure: str
    observed_s: float
    budget_s: float
    reached: bool


@dataclass(frozen=True)
class HealthView:
    t_s: float
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class NoteView:
    t_s: float
    by: str
    text: str
    wall: float | None = None


@dataclass(frozen=True)
class SlaRow:
    measure: str
    observed_s: float | None
    budget_s: float
    source: str
    verdict: str  # pass | fail | not reached (the drill stopped before the measure began)
    reached: bool = True


@dataclass(frozen=True)
class DrillView:
    drill: str
    alert: str
    outcome: str
    error: str
    wall_s: float
    measured: Mapping[str, float]
    steps_s: Mapping[str, float]
    budgets: tuple[BudgetView, ...]
    breaches: tuple[BreachView, ...]
    timeline: tuple[MarkView, ...]
    health: tuple[HealthView, ...] = ()
    notes: tuple[NoteView, ...] = ()
    roles: Mapping[str, str] | None = None
    reverted: bool = False
    steady_after: bool = False

    def first(self, phase: str, step: str | None = None) -> MarkView | None:
        return next(
            (m for m in self.timeline if m.phase == phase and (step is None or m.step == step)),
            None,
        )

    def detected(self) -> MarkView | None:
        """The earlier of the first failing probe and the alert firing (the clock's rule)."""
        found = [
            m for m in (self.first(Phase.DETECTED_PROBE), self.first(Phase.DETECTED_ALERT)) if m
        ]
        return min(found, key=lambda m: m.t_s) if found else None

    def measure_start(self, measure: str) -> MarkView | None:
        """Where a budget's stretch begins: its deadline is this mark plus the budget."""
        try:
            start = measure_named(measure).start
        except KeyError:
            return None
        return self.detected() if start == Phase.DETECTED_PROBE else self.first(start)

    def sla_rows(self) -> list[SlaRow]:
        breaches = {b.measure: b for b in self.breaches}
        rows = []
        for b in sorted(self.budgets, key=lambda b: _ORDER.get(b.measure.partition(":")[0], 9)):
            breach = breaches.get(b.measure)
            observed = self.measured.get(b.measure)
            if breach is not None:
                rows.append(
                    SlaRow(
                        b.measure, breach.observed_s, b.seconds, b.source, "fail", breach.reached
                    )
                )
            elif observed is None:
                rows.append(SlaRow(b.measure, None, b.seconds, b.source, "not reached", False))
            else:
                verdict = "pass" if observed <= b.seconds else "fail"
                rows.append(SlaRow(b.measure, observed, b.seconds, b.source, verdict))
        return rows

    @property
    def mttd_s(self) -> float | None:
        """Time to detect as the runbook counts it: the alert when the drill awaited one."""
        return self.measured.get("time_to_alert", self.measured.get("time_to_detect"))

    @property
    def mttr_s(self) -> float | None:
        return self.measured.get("time_to_recover")


@dataclass(frozen=True)
class RunView:
    run_id: str
    profile: str
    started: str
    finished: str
    passed: bool | None
    drills: tuple[DrillView, ...]
    gameday: GameDayView | None = None  # the game day's section, when the run was one


@dataclass(frozen=True)
class Deadline:
    measure: str
    start_s: float
    at_s: float  # start + budget
    budget_s: float
    breached: bool
    end_s: float | None  # where the measure ended (or was given up on), for the breach shade


@dataclass(frozen=True)
class StepBar:
    name: str
    start_s: float
    end_s: float | None
    actor: str
    skipped: bool


def deadlines(drill: DrillView) -> list[Deadline]:
    breached = {b.measure: b for b in drill.breaches}
    found = []
    for budget in drill.budgets:
        start = drill.measure_start(budget.measure)
        if start is None:
            continue
        breach = breached.get(budget.measure)
        observed = breach.observed_s if breach else drill.measured.get(budget.measure)
        found.append(
            Deadline(
                budget.measure,
                start.t_s,
                start.t_s + budget.seconds,
                budget.seconds,
                breach is not None,
                None if observed is None else start.t_s + observed,
            )
        )
    return found


def step_bars(drill: DrillView) -> list[StepBar]:
    bars = []
    for i, mark in enumerate(drill.timeline):
        if mark.phase != Phase.STEP_STARTED or mark.step is None:
            continue
        end = next(
            (
                m
                for m in drill.timeline[i + 1 :]
                if m.phase == Phase.STEP_FINISHED and m.step == mark.step
            ),
            None,
        )
        bars.append(
            StepBar(
                mark.step,
                mark.t_s,
                end.t_s if end else None,
                end.actor if end else "",
                bool(end and end.detail.startswith("skipped")),
            )
        )
    return bars


def drill_from_entry(entry: object, where: str = "drill") -> DrillView:
    """One journal entry (``journal_entry``'s shape, or an older one) as a ``DrillView``."""
    f = Fields(entry, where)
    roles = f.data.get("roles")
    return DrillView(
        drill=f.text("drill"),
        alert=f.text("alert", ""),
        outcome=f.text("outcome"),
        error=f.text("error", ""),
        wall_s=f.num("wall_s", 0.0),
        measured=f.numbers("measured_s"),
        steps_s=f.numbers("steps_s"),
        budgets=tuple(
            BudgetView(b.text("measure"), b.num("seconds"), b.text("source", ""))
            for b in f.items("budgets")
        ),
        breaches=tuple(
            BreachView(
                b.text("measure"), b.num("observed_s"), b.num("budget_s"), b.flag("reached", True)
            )
            for b in f.items("breaches")
        ),
        timeline=tuple(
            MarkView(
                m.text("phase"),
                m.num("t_s"),
                m.text("detail", ""),
                m.opt_text("step"),
                m.text("actor", "automation"),
                m.opt_num("wall"),
            )
            for m in f.items("timeline")
        ),
        health=tuple(
            HealthView(h.num("t_s"), h.flag("ok"), h.text("detail", "")) for h in f.items("health")
        ),
        notes=tuple(
            NoteView(n.num("t_s", 0.0), n.text("by", ""), n.text("text", ""), n.opt_num("wall"))
            for n in f.items("notes")
        ),
        roles={str(k): _text(v) for k, v in roles.items()} if isinstance(roles, dict) else None,
        reverted=f.flag("reverted"),
        steady_after=f.flag("steady_after"),
    )


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def run_from_data(data: object, where: str = "journal.json") -> RunView:
    f = Fields(data, where)
    passed = f.data.get("passed")
    return RunView(
        run_id=f.text("run_id"),
        profile=f.text("profile", ""),
        started=f.text("started", ""),
        finished=f.text("finished", ""),
        passed=passed if isinstance(passed, bool) else None,
        drills=tuple(drill_from_entry(d.data, d.where) for d in f.items("drills")),
        gameday=gameday_from_data(f),
    )


def load_run(path: Path) -> RunView:
    """Read ``journal.json`` (or the run directory holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "journal.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"no journal at {path}", hint="pass a run directory: reports/<run-id>/"
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    return run_from_data(data, str(path))

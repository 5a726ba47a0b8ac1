"""The incident clock: timestamped phases of one drill, from steady state to verified."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["IncidentClock", "Mark", "Phase"]


class Phase(StrEnum):
    """The phases a drill records, in the order they normally happen."""

    STEADY_STATE = "steady_state_verified"
    INJECTED = "fault_injected"
    ACTIVE = "fault_active"  # the clock starts here: the fault is proven in effect
    DETECTED_PROBE = "detected_probe"  # the first failing probe
    DETECTED_ALERT = "detected_alert"  # the expected alert fired
    RESPONDED = "response_started"  # automation or a human acknowledged
    STEP_STARTED = "step_started"
    STEP_FINISHED = "step_finished"
    STAGE_DONE = "stage_done"  # the last step of a runbook stage (its "step" names the stage)
    RECOVERED = "recovered"  # steady state held for the settle period
    ALERT_RESOLVED = "alert_resolved"  # the expected alert resolved after recovery
    VERIFIED = "verified"  # invariants hold
    REVERTED = "fault_reverted"


@dataclass(frozen=True)
class Mark:
    phase: Phase
    at: float  # monotonic seconds
    wall: float  # epoch seconds, for reports
    detail: str = ""
    step: str | None = None
    actor: str = "automation"


@dataclass
class IncidentClock:
    """Records phases with an injectable monotonic clock; durations are measured between them.

    The first mark of a phase counts (a later "detected" does not move detection); steps are
    recorded every time, keyed by name.
    """

    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    marks: list[Mark] = field(default_factory=list)

    def mark(
        self,
        phase: Phase,
        detail: str = "",
        *,
        step: str | None = None,
        actor: str = "automation",
        at: float | None = None,
    ) -> Mark:
        """Record ``phase`` now (or at ``at``, a monotonic time already observed)."""
        now = self.clock()
        when = now if at is None else at
        entry = Mark(phase, when, self.wall() - (now - when), detail, step, actor)
        self.marks.append(entry)
        return entry

    def first(self, phase: Phase, step: str | None = None) -> Mark | None:
        for entry in self.marks:
            if entry.phase == phase and (step is None or entry.step == step):
                return entry
        return None

    def detected(self) -> Mark | None:
        """Detection: the earlier of the alert firing and the first failing probe."""
        found = [
            m for m in (self.first(Phase.DETECTED_ALERT), self.first(Phase.DETECTED_PROBE)) if m
        ]
        return min(found, key=lambda m: m.at) if found else None

    def between(self, start: Phase, end: Phase) -> float | None:
        """Seconds from the first ``start`` to the first ``end``; None if either is missing."""
        a, b = self.first(start), self.first(end)
        if a is None or b is None:
            return None
        return b.at - a.at

    def elapsed(self, since: Phase) -> float | None:
        """Seconds from the first ``since`` until now (for a running clock)."""
        entry = self.first(since)
        return None if entry is None else self.clock() - entry.at

    def step_durations(self) -> dict[str, float]:
        durations: dict[str, float] = {}
        for entry in self.marks:
            if entry.phase == Phase.STEP_FINISHED and entry.step is not None:
                started = self.first(Phase.STEP_STARTED, entry.step)
                if started is not None:
                    durations[entry.step] = entry.at - started.at
        return durations

"""Hypothesis strategies for fault schedules, and the drill profile's bounds on them.

A schedule is a few faults from the menu (:data:`~drillbook.schedules.KINDS`), each with a
start offset and a duration inside the schedule's time budget; overlaps are allowed. Shrinking
moves towards fewer events, earlier starts and shorter durations, so a failing schedule ends
as the smallest one that still fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypothesis import strategies as st

from drillbook.errors import ConfigError
from drillbook.schedules._model import KINDS, FaultEvent, Schedule

if TYPE_CHECKING:
    from drillbook.schedules._menu import Menu

__all__ = ["PROFILES", "ScheduleProfile", "fault_events", "profile_for", "schedules"]


@dataclass(frozen=True)
class ScheduleProfile:
    """How hard a drill profile runs the property: examples, events and seconds per schedule."""

    name: str
    max_examples: int
    max_events: int
    budget_s: float
    kinds: tuple[str, ...] = tuple(KINDS)
    min_duration_s: float = 1.0
    # the same schedules every run: CI checks for regressions, nightly explores
    derandomize: bool = False

    def strategy(self, menu: Menu | None = None) -> st.SearchStrategy[Schedule]:
        """Schedules from ``menu`` (default: the reference stack's, less the kinds this
        profile leaves out); a project's menu is used whole."""
        if menu is None or menu.reference:
            kinds, targets = self.kinds, KINDS
        else:
            kinds, targets = tuple(menu.kinds), menu.kinds
        return schedules(
            self.budget_s, self.max_events, kinds, 1, self.min_duration_s, targets=targets
        )

    def settings_kwargs(self) -> dict[str, object]:
        """The ``hypothesis.settings`` a lab property runs with (no database: a lab is not
        replayable from a local example cache; no deadline: faults take seconds)."""
        return {
            "max_examples": self.max_examples,
            "database": None,
            "deadline": None,
            "derandomize": self.derandomize,
        }


#: one place for the profile -> bounds mapping, read by the tests and by the CLI
PROFILES: dict[str, ScheduleProfile] = {
    # ci leaves out the halt (two rollouts of the backend: slow) and keeps schedules short
    "ci": ScheduleProfile(
        "ci",
        max_examples=4,
        max_events=3,
        budget_s=8.0,
        kinds=tuple(k for k in KINDS if k != "halt"),
        derandomize=True,
    ),
    "nightly": ScheduleProfile("nightly", max_examples=25, max_events=5, budget_s=30.0),
    "gameday": ScheduleProfile("gameday", max_examples=50, max_events=6, budget_s=60.0),
}


def profile_for(name: str) -> ScheduleProfile:
    if name not in PROFILES:
        raise ConfigError(
            f"schedule profile {name!r}: expected one of {', '.join(PROFILES)}",
        )
    return PROFILES[name]


@st.composite
def fault_events(
    draw: st.DrawFn,
    budget_s: float,
    kinds: tuple[str, ...] = tuple(KINDS),
    min_duration_s: float = 1.0,
    targets: Mapping[str, tuple[str, ...]] = KINDS,
) -> FaultEvent:
    """One event that starts and ends within ``budget_s`` (whole and half seconds: readable
    schedules, and shrinking lands on round numbers)."""
    if budget_s < min_duration_s:
        raise ValueError(f"budget_s {budget_s} is shorter than min_duration_s {min_duration_s}")
    kind = draw(st.sampled_from(kinds))
    target = draw(st.sampled_from(targets[kind]))
    halves = int((budget_s - min_duration_s) * 2)
    start = draw(st.integers(0, halves)) / 2
    longest = int((budget_s - start) * 2)
    duration = draw(st.integers(int(min_duration_s * 2), longest)) / 2
    return FaultEvent(kind, target, start, duration)


def schedules(
    budget_s: float,
    max_events: int,
    kinds: tuple[str, ...] = tuple(KINDS),
    min_events: int = 1,
    min_duration_s: float = 1.0,
    *,
    targets: Mapping[str, tuple[str, ...]] = KINDS,
) -> st.SearchStrategy[Schedule]:
    """Schedules of ``min_events``..``max_events`` events within ``budget_s``, sorted by start;
    ``kinds`` drawn with their ``targets`` (the reference stack's KINDS unless a project's)."""
    return st.lists(
        fault_events(budget_s, kinds, min_duration_s, targets),
        min_size=min_events,
        max_size=max_events,
    ).map(lambda evs: Schedule(tuple(sorted(evs, key=lambda e: e.start_s)), budget_s))

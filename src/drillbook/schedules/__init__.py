"""Randomized fault schedules: Hypothesis-generated sequences of faults with invariants.

A :class:`Schedule` is a few faults from a :class:`Menu` (the reference stack's :data:`KINDS`,
or a drill project's faults: :func:`drill_menu`) with start offsets and durations inside a time
budget; :func:`run_schedule` plays it on a Docker lab and reverts
everything; :func:`check_invariants` says what held. A failing schedule, shrunk by Hypothesis,
is saved with :func:`save_failure` and re-run with ``drillbook replay FILE``.
"""

from __future__ import annotations

import time
from pathlib import Path

from drillbook.schedules._executor import Halt, ScheduleRun, fault_for, run_schedule
from drillbook.schedules._invariants import (
    Verdict,
    check_invariants,
    forget_unfilled,
    wait_trading,
)
from drillbook.schedules._menu import REFERENCE, Menu, drill_menu
from drillbook.schedules._model import (
    KINDS,
    FaultEvent,
    Schedule,
    load_schedule,
    save_schedule,
    schedule_from_json,
)
from drillbook.schedules.strategies import PROFILES, ScheduleProfile, profile_for, schedules

__all__ = [
    "KINDS",
    "PROFILES",
    "REFERENCE",
    "FaultEvent",
    "Halt",
    "Menu",
    "Schedule",
    "ScheduleProfile",
    "ScheduleRun",
    "Verdict",
    "check_invariants",
    "drill_menu",
    "failed",
    "failure_path",
    "fault_for",
    "forget_unfilled",
    "load_schedule",
    "profile_for",
    "run_schedule",
    "save_failure",
    "save_schedule",
    "schedule_from_json",
    "schedules",
    "wait_trading",
]


def failed(verdicts: list[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if not v.ok]


def failure_path(directory: Path = Path("reports/schedules"), name: str = "") -> Path:
    """Where a run saves its failing schedule: one file per run, each failure overwriting the
    last, so what stays is the shrunk one (Hypothesis replays it last)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return directory / f"{name or 'schedule-' + stamp}.json"


def save_failure(schedule: Schedule, verdicts: list[Verdict], path: Path) -> Path:
    """Write a failing schedule to ``path``, its note naming the invariants that failed;
    returns the path (for ``drillbook replay``)."""
    note = "; ".join(f"{v.name}: {v.detail}" for v in failed(verdicts))
    return save_schedule(Schedule(schedule.events, schedule.budget_s, note[:2000]), path)

"""A fault schedule: faults (kind, target, start offset, duration) within a time budget.

Saved as JSON so a failing schedule, once Hypothesis has shrunk it, can be re-run with
``drillbook replay FILE``; loading names the file and the field that is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drillbook.errors import ConfigError

if TYPE_CHECKING:
    from drillbook.schedules._menu import Menu

__all__ = [
    "KINDS",
    "FaultEvent",
    "Schedule",
    "load_schedule",
    "save_schedule",
    "schedule_from_json",
]

#: the menu: each kind with the targets it accepts (faults that revert cleanly on the Docker lab)
KINDS: Mapping[str, tuple[str, ...]] = {
    "kill": ("backend", "postgres", "redis"),  # SIGKILL; revert: start the container again
    "partition": ("postgres", "redis", "exchange"),  # backend cut from that peer (iptables)
    "exchange_429": ("exchange",),  # both exchanges answer 429
    "exchange_outage": ("exchange",),  # both exchanges drop every connection
    "halt": ("backend",),  # emergency close, then ALLOW_NEW_POSITIONS=false; revert: re-enable
}

MAX_BUDGET_S = 3600.0
FORMAT = "drillbook.schedule/1"


@dataclass(frozen=True)
class FaultEvent:
    """One fault of a schedule: injected at ``start_s`` (seconds from the schedule's start),
    reverted ``duration_s`` later."""

    kind: str
    target: str
    start_s: float
    duration_s: float

    def __post_init__(self) -> None:
        # kind and target are checked against a menu (drillbook.schedules.Menu.check): the
        # reference stack's KINDS, or a project's drills
        if not 0 <= self.start_s <= MAX_BUDGET_S:
            raise ValueError(f"start_s {self.start_s}: expected 0 <= s <= {MAX_BUDGET_S:g}")
        if not 0 < self.duration_s <= MAX_BUDGET_S:
            raise ValueError(f"duration_s {self.duration_s}: expected 0 < s <= {MAX_BUDGET_S:g}")

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def label(self) -> str:
        return f"{self.kind} {self.target} @{self.start_s:g}s for {self.duration_s:g}s"


@dataclass(frozen=True)
class Schedule:
    """Faults to run together; every one ends within ``budget_s`` (overlaps allowed)."""

    events: tuple[FaultEvent, ...]
    budget_s: float
    note: str = ""  # why it was saved: the invariant that failed

    def __post_init__(self) -> None:
        if not 0 < self.budget_s <= MAX_BUDGET_S:
            raise ValueError(f"budget_s {self.budget_s}: expected 0 < s <= {MAX_BUDGET_S:g}")
        for i, e in enumerate(self.events):
            if e.end_s > self.budget_s + 1e-9:
                raise ValueError(
                    f"events[{i}] ({e.label()}) ends at {e.end_s:g}s, after budget_s "
                    f"{self.budget_s:g}"
                )

    def overlaps(self) -> int:
        """How many pairs of events are active at the same time."""
        ev = self.events
        return sum(
            1
            for i in range(len(ev))
            for j in range(i + 1, len(ev))
            if ev[i].start_s < ev[j].end_s and ev[j].start_s < ev[i].end_s
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "budget_s": self.budget_s,
            "note": self.note,
            "events": [
                {
                    "kind": e.kind,
                    "target": e.target,
                    "start_s": e.start_s,
                    "duration_s": e.duration_s,
                }
                for e in self.events
            ],
        }

    def describe(self) -> str:
        return "; ".join(e.label() for e in self.events) or "no fault"


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number of seconds, got {value!r}")
    return float(value)


def schedule_from_json(data: object, source: str, menu: Menu | None = None) -> Schedule:
    """The schedule in ``data``, its events from ``menu`` (default: the reference stack's);
    errors name ``source`` and the field."""
    from drillbook.schedules._menu import REFERENCE

    menu = menu or REFERENCE
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a JSON object with budget_s and events")
    if data.get("format", FORMAT) != FORMAT:
        raise ConfigError(f"{source}: format {data.get('format')!r}: expected {FORMAT!r}")
    events_raw = data.get("events")
    if not isinstance(events_raw, list):
        raise ConfigError(f"{source}: field 'events': expected a list of fault events")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise ConfigError(f"{source}: field 'note': expected a string")
    events = []
    for i, raw in enumerate(events_raw):
        where = f"{source}: events[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected an object with kind, target, start_s, duration_s")
        missing = [k for k in ("kind", "target", "start_s", "duration_s") if k not in raw]
        if missing:
            raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
        unknown = sorted(set(raw) - {"kind", "target", "start_s", "duration_s"})
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
        for key in ("kind", "target"):
            if not isinstance(raw[key], str):
                raise ConfigError(f"{where}.{key}: expected a string, got {raw[key]!r}")
        try:
            event = FaultEvent(
                raw["kind"],
                raw["target"],
                _number(raw["start_s"], f"{where}.start_s"),
                _number(raw["duration_s"], f"{where}.duration_s"),
            )
            menu.check(event)
            events.append(event)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    try:
        return Schedule(
            tuple(events), _number(data.get("budget_s"), f"{source}: field 'budget_s'"), note
        )
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_schedule(path: Path, menu: Menu | None = None) -> Schedule:
    """Read a schedule file, its events from ``menu`` (default: the reference stack's);
    :class:`~drillbook.errors.ConfigError` names the file, the line (bad JSON) or the field
    (a bad value, or an event the menu has not)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such schedule file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}",
            hint="a schedule is a JSON object: "
            '{"budget_s": 20, "events": [{"kind": "kill", "target": "backend", '
            '"start_s": 1, "duration_s": 3}]}',
        ) from None
    return schedule_from_json(data, str(path), menu)


def save_schedule(schedule: Schedule, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schedule.to_json(), indent=2) + "\n", encoding="utf-8")
    return path

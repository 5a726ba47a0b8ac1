"""What a schedule's events may be: each kind with its targets, and the fault an event injects.

The reference stack's menu is :data:`~drillbook.schedules.KINDS` (kills, partitions, exchange
faults, the halt) with :func:`~drillbook.schedules.fault_for`. A drill project's menu is made
from its drills (:func:`drill_menu`): each drill's fault is a kind, named by the drill, with the
service it acts on as its one target; its invariants are every ``sql:`` and ``http:`` check its
drills declare, since what must hold after one drill's fault must hold after several at once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drillbook.drills import Drill, Invariant
from drillbook.faults import Fault
from drillbook.schedules._model import KINDS, FaultEvent

__all__ = ["REFERENCE", "Menu", "drill_menu"]


@dataclass(frozen=True)
class Menu:
    """``kinds``: kind -> the targets it accepts. ``faults`` (a project's menu): kind -> the
    drill's fault, copied for each event; None: the reference stack's :func:`fault_for`."""

    kinds: Mapping[str, tuple[str, ...]]
    faults: Mapping[str, Fault[Any]] | None = None
    invariants: tuple[Invariant[Any], ...] = ()
    label: str = "the reference stack"

    @property
    def reference(self) -> bool:
        return self.faults is None

    def check(self, event: FaultEvent) -> None:
        """ValueError naming what this menu has, for an event it has not."""
        if event.kind not in self.kinds:
            raise ValueError(
                f"kind {event.kind!r}: expected one of {', '.join(self.kinds)}"
                + ("" if self.reference else f" (the drills of {self.label})")
            )
        if event.target not in self.kinds[event.kind]:
            raise ValueError(
                f"target {event.target!r} for kind {event.kind!r}: expected one of "
                f"{', '.join(self.kinds[event.kind])}"
            )

    def fault(self, event: FaultEvent) -> Fault[Any]:
        if self.faults is None:
            from drillbook.schedules._executor import fault_for

            return fault_for(event)
        return copy.deepcopy(self.faults[event.kind])  # one fault object per event


REFERENCE = Menu(KINDS)


def _target(fault: Fault[Any]) -> str:
    service = getattr(fault, "service", None)
    return service if isinstance(service, str) and service else "lab"


def drill_menu(drills: Iterable[Drill], label: str) -> Menu:
    """The menu of a project's ``drills``: every drill with a fault (not a planned one, whose
    fault is the calendar), its invariants deduplicated by name, first one kept."""
    every = list(drills)
    faulted = [d for d in every if not d.planned]
    if not faulted:
        raise ValueError(f"{label} has no drill with a fault to schedule")
    invariants: dict[str, Invariant[Any]] = {}
    for drill in every:
        for inv in drill.invariants:
            invariants.setdefault(inv.name, inv)
    return Menu(
        {d.name: (_target(d.fault),) for d in faulted},
        {d.name: d.fault for d in faulted},
        tuple(invariants.values()),
        label,
    )

"""Drill events and the handler base class every reporter subclasses (all methods no-ops)."""

from __future__ import annotations

from typing import Protocol

from drillbook.sla import Breach, DrillResult, Mark

__all__ = ["DrillLike", "RunEventHandler"]


class DrillLike(Protocol):
    """What a reporter may know of a drill."""

    @property
    def name(self) -> str: ...

    @property
    def alert(self) -> str: ...


class RunEventHandler:
    """Subscribe to a run by overriding what you need; the runner calls every method."""

    def run_started(self, run_id: str, profile: str) -> None:
        return None

    def drill_started(self, drill: DrillLike) -> None:
        return None

    def phase(self, drill: DrillLike, mark: Mark) -> None:
        return None

    def health(self, drill: DrillLike, at: float, ok: bool, detail: str) -> None:
        """One poll of the drill's probes (10 Hz while waiting); ``at`` is monotonic seconds,
        on the same clock as ``Mark.at``."""

    def drill_finishing(self, drill: DrillLike) -> None:
        """The drill is over (any outcome): the runner now reverts what it changed, then calls
        :meth:`drill_finished`. An abort from here on should wait for that: a revert is never
        cut short, and the result must reach the reporters."""

    def breach(self, drill: DrillLike, breach: Breach) -> None:
        return None

    def drill_finished(self, drill: DrillLike, result: DrillResult) -> None:
        return None

    def run_finished(self, results: list[DrillResult]) -> None:
        return None

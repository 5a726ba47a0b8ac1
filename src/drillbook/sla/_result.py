"""What one drill run produced: outcome, timeline, measures, breaches."""

from __future__ import annotations

from dataclasses import dataclass, field

from drillbook.errors import DrillbookError, SLABreached
from drillbook.sla._budgets import Breach, Budget
from drillbook.sla._clock import Mark

__all__ = ["DrillResult", "Note"]


@dataclass(frozen=True)
class Note:
    """Something a person said during a drill (a game day's ``n <text>``), on the clock."""

    at: float  # monotonic seconds, the clock of the drill's marks
    wall: float  # epoch seconds, for reports
    by: str
    text: str


@dataclass
class DrillResult:
    drill: str
    alert: str
    outcome: str  # passed | breached | failed | aborted
    marks: list[Mark]
    budgets: list[Budget]
    breaches: list[Breach] = field(default_factory=list)
    measured: dict[str, float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    error: str = ""
    reverted: bool = False
    steady_after: bool = False
    wall_s: float = 0.0
    # game days: what people noted, and who played each role (role -> person)
    notes: list[Note] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    # the breach that stopped the drill, with what was observed at the time
    breach_error: SLABreached | None = field(default=None, compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def raise_for_outcome(self) -> None:
        """Raise the breach (``SLABreached``) or the failure of a drill that did not pass."""
        if self.breach_error is not None:
            raise self.breach_error
        if self.breaches:
            raise self.breaches[0].error()
        if self.outcome != "passed":
            raise DrillbookError(f"drill {self.drill!r} {self.outcome}: {self.error}")

"""The incident clock and SLA budgets: what a drill measures and what it must stay within."""

from drillbook.sla._budgets import (
    MEASURES,
    PROFILES,
    WINDOW,
    Breach,
    Budget,
    Measure,
    Profile,
    evaluate,
    get_profile,
    measure_named,
)
from drillbook.sla._clock import IncidentClock, Mark, Phase
from drillbook.sla._result import DrillResult, Note

__all__ = [
    "MEASURES",
    "PROFILES",
    "WINDOW",
    "Breach",
    "Budget",
    "DrillResult",
    "IncidentClock",
    "Mark",
    "Measure",
    "Note",
    "Phase",
    "Profile",
    "evaluate",
    "get_profile",
    "measure_named",
]

"""Game days: plans of scenarios run with humans in the loop (or rehearsed by automation).

A plan (``drills/gameday/*.yaml``, :func:`load_plan`) names drills of the catalogue in order,
the roles people play, who acknowledges each alert and who does each runbook step;
:func:`run_plan` runs it on a lab through a :class:`GameDayConsole` (live incident clocks,
notes, abort at any moment) with people at the terminal or, rehearsing, automation in every role.
"""

from drillbook.gameday._console import (
    GameDayAborted,
    GameDayConsole,
    abort_on_signals,
    clock_text,
)
from drillbook.gameday._operators import RehearsalOperator, TerminalOperator
from drillbook.gameday._plan import Assignment, Plan, Role, Scenario, load_plan, plan_env
from drillbook.gameday._render import render_plan
from drillbook.gameday._run import GameDayResult, run_plan

__all__ = [
    "Assignment",
    "GameDayAborted",
    "GameDayConsole",
    "GameDayResult",
    "Plan",
    "RehearsalOperator",
    "Role",
    "Scenario",
    "TerminalOperator",
    "abort_on_signals",
    "clock_text",
    "load_plan",
    "plan_env",
    "render_plan",
    "run_plan",
]

"""Who answers the runner on a game day: people at the terminal, or automation rehearsing.

Both follow the plan's scenario: the role that acknowledges, and for each step whether a person
in a role does it by hand or automation runs it. A person may still hand their step to
automation (``h``); a step done by hand (``d``) is recorded under the person's name, and the
probes still judge recovery (a step claimed done but not done breaches ``time_to_recover``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drillbook.drills import Drill, Step
from drillbook.gameday._console import GameDayConsole
from drillbook.gameday._plan import Scenario

__all__ = ["RehearsalOperator", "TerminalOperator"]


@dataclass
class TerminalOperator:
    """People at the terminal answer for the roles of ``scenario``."""

    console: GameDayConsole
    scenario: Scenario

    def acknowledge(self, drill: Drill, seen: str) -> str:
        role = self.scenario.acknowledge
        who = self.console.people.get(role, role)
        self.console.say(f"\n*** ALERT {drill.alert}: {drill.name}\n    detected: {seen}")
        name = self.console.ask(f"    acknowledge as {role}: your name (Enter: {who}) > ") or who
        self.console.people[role] = name  # whoever answered plays the role from now on
        self.console.current = name
        return name

    def perform(self, drill: Drill, step: Step[Any]) -> str:
        assigned = self.scenario.assignment(step.name)
        cite = f"  [{step.runbook}]" if step.runbook else ""
        if assigned.by == "automation":
            self.console.say(f"    step: {step.name}{cite}\n      -> automation runs it")
            return "automation"
        assert assigned.role is not None
        who = self.console.people.get(assigned.role, assigned.role)
        self.console.say(f"    step for {assigned.role} ({who}): {step.name}{cite}")
        while True:
            answer = self.console.ask(
                "      d: done by hand (d NAME: by someone else), h: hand to automation > "
            )
            word, _, rest = answer.partition(" ")
            if word.lower() in ("h", "hand", "automation"):
                self.console.say(f"      -> handed to automation by {who}")
                self.console.record(f"handed to automation: {step.name}", who)
                return "automation"
            if word.lower() in ("d", "done"):
                doer = rest.strip() or who
                self.console.current = doer
                return doer
            self.console.say(
                "      (d: done by hand, h: hand to automation, n TEXT: note, a: abort)"
            )


@dataclass
class RehearsalOperator:
    """Automation plays every role: acknowledges as the role, runs every step."""

    console: GameDayConsole
    scenario: Scenario

    def acknowledge(self, drill: Drill, seen: str) -> str:
        who = f"automation as {self.scenario.acknowledge}"
        self.console.say(f"\n*** ALERT {drill.alert}: {drill.name}\n    detected: {seen}")
        self.console.say(f"    rehearsal: acknowledged by {who}")
        return who

    def perform(self, drill: Drill, step: Step[Any]) -> str:
        assigned = self.scenario.assignment(step.name)
        role = f" for {assigned.role}" if assigned.by == "human" else ""
        self.console.say(f"    rehearsal: automation runs{role}: {step.name}")
        return "automation"

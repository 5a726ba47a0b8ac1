"""Humans in the loop: a game day's operator acknowledges the alert and does runbook steps.

With an operator the runner waits, once the fault is detected (and its alert fired), for a
human to acknowledge: the clock's ``response_started`` is then the human's, with their name.
For each runbook step the operator either lets drillbook's automation run it (Enter) or says
they did it by hand (``d``): the step is timed from the prompt to their answer, by their name
(each human phase's ``Mark.actor`` is the person's name).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from drillbook.drills._model import Drill, Step

__all__ = ["ConsoleOperator", "Operator"]


class Operator(Protocol):
    def acknowledge(self, drill: Drill, seen: str) -> str:
        """Block until a human acknowledges; return who."""
        ...

    def perform(self, drill: Drill, step: Step[Any]) -> str:
        """Who performs ``step``: ``"automation"`` (drillbook runs it now), or the name of the
        person who did it by hand (already done)."""
        ...


@dataclass
class ConsoleOperator:
    """Prompts on ``output`` and reads answers from ``input`` (a terminal, or a pipe in tests)."""

    input: TextIO = field(default_factory=lambda: sys.stdin)
    output: TextIO = field(default_factory=lambda: sys.stderr)
    name: str = ""

    def _ask(self, prompt: str) -> str:
        print(prompt, end="", file=self.output, flush=True)
        line = self.input.readline()
        if line == "":  # end of input: nobody is there to answer
            raise EOFError("no answer from the operator (end of input)")
        return line.strip()

    def acknowledge(self, drill: Drill, seen: str) -> str:
        print(f"\n*** {drill.alert}: {drill.name}\n    detected: {seen}", file=self.output)
        who = self._ask("    acknowledge: your name (Enter: operator) > ") or self.name
        self.name = who or "operator"
        return self.name

    def perform(self, drill: Drill, step: Step[Any]) -> str:
        cite = f" ({step.runbook})" if step.runbook else ""
        answer = self._ask(
            f"    step: {step.name}{cite}\n    Enter: let drillbook run it; d: done by hand > "
        )
        return (self.name or "operator") if answer.lower() in ("d", "done") else "automation"

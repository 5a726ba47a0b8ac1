"""The runbook under check: its model, its sections by line, its commands split into parts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from drillbook.checks._finding import Finding
from drillbook.errors import RunbookParseError
from drillbook.runbook import Command, Runbook, parse_runbook

__all__ = ["RunbookDoc", "Segment", "segments"]

_HEADING = re.compile(r"^(#{2,4})\s+(.*?)\s*$")
_OPERATORS = ("|", "||", "&&", "&", ";", ">", ">>", "<")


@dataclass(frozen=True)
class Segment:
    """One program of a command line (pipelines and redirections split): ``kubectl ...``,
    ``grep ...``; ``position`` 0 is the first; ``stdin`` whether it reads a pipe."""

    argv: tuple[str, ...]
    position: int
    stdin: bool


def _joined(argv: tuple[str, ...]) -> list[str]:
    """``$(date +%s)`` back in one word: shlex splits the substitution at its space."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1].count("$(") > out[-1].count(")"):
            out[-1] += " " + arg
        else:
            out.append(arg)
    return out


def segments(command: Command) -> list[Segment]:
    out: list[Segment] = []
    current: list[str] = []
    piped = False
    skip_next = False
    for arg in _joined(command.argv):
        if skip_next:  # the file of a redirection
            skip_next = False
            continue
        if arg in _OPERATORS:
            if current:
                out.append(Segment(tuple(current), len(out), piped))
            piped = arg == "|"
            current = []
            skip_next = arg in (">", ">>", "<")
            continue
        current.append(arg)
    if current:
        out.append(Segment(tuple(current), len(out), piped))
    return out


@dataclass(frozen=True)
class RunbookDoc:
    path: Path
    text: str
    runbook: Runbook

    @classmethod
    def load(cls, path: str | Path) -> RunbookDoc:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RunbookParseError(str(p), [(0, f"cannot read the file: {exc}")]) from exc
        return cls(p, text, parse_runbook(text, str(p)))

    @classmethod
    def from_text(cls, text: str, name: str = "RUNBOOK.md") -> RunbookDoc:
        return cls(Path(name), text, parse_runbook(text, name))

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def _sections(self) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = [()]
        heads = ["", "", ""]
        fenced = False
        for raw in self.lines:
            stripped = raw.strip()
            if stripped.startswith("```"):
                fenced = not fenced
            match = None if fenced else _HEADING.match(stripped)
            if match:
                level = len(match.group(1)) - 2
                heads[level:] = [match.group(2), "", ""][: 3 - level]
            out.append(tuple(h for h in heads if h))
        return out

    def section(self, line: int) -> tuple[str, ...]:
        """The ``##``/``###``/``####`` headings a line is under."""
        sections = self._sections
        return sections[line] if 0 <= line < len(sections) else ()

    def commands(self) -> Iterator[Command]:
        seen: set[int] = set()
        for command in sorted(self.runbook.commands(), key=lambda c: c.line):
            if command.line not in seen:
                seen.add(command.line)
                yield command

    def finding(
        self,
        check: str,
        code: str,
        severity: str,
        command: Command,
        message: str,
        *,
        hint: str = "",
        subject: str = "",
    ) -> Finding:
        return Finding(
            check,
            code,
            severity,
            self.section(command.line),
            command.line,
            command.text,
            message,
            hint,
            subject,
        )

    def at(
        self,
        check: str,
        code: str,
        severity: str,
        line: int,
        text: str,
        message: str,
        *,
        hint: str = "",
        subject: str = "",
    ) -> Finding:
        """A finding about a line that is not a command (a heading, a budget)."""
        return Finding(
            check, code, severity, self.section(line), line, text, message, hint, subject
        )

    def line_of(self, text: str) -> int:
        """The first line holding ``text`` (0 when none does)."""
        for number, raw in enumerate(self.lines, start=1):
            if text and text in raw:
                return number
        return 0

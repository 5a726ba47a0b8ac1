"""Markdown to :class:`Runbook`: a line-based reader that keeps every line number.

Problems are collected, not raised one by one: a malformed runbook yields one
:class:`RunbookParseError` listing each problem with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from drillbook.errors import RunbookParseError
from drillbook.runbook._commands import BlockLine, parse_command, split_block
from drillbook.runbook._durations import find_duration
from drillbook.runbook._model import (
    AlertSection,
    Budget,
    Command,
    EscalationRule,
    Procedure,
    Runbook,
    Step,
)

__all__ = ["load_runbook", "parse_runbook"]

ALERTS_SECTION = "Alert Response Procedures"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_FIELD = re.compile(r"^\*\*([A-Za-z][A-Za-z ]*)\*\*\s*:\s*(.*?)\s*$")
_NUMBERED = re.compile(r"^(\d+)\.\s+(?:\*\*(.+?)\*\*:?|(.+))\s*$")
_STEP_COMMENT = re.compile(r"^(\d+)\.\s+(.*)$")
_CATEGORIES = (
    ("database", "database_recovery"),
    ("service recovery", "service_recovery"),
    ("performance", "performance"),
    ("security", "security"),
    ("backup", "backup"),
    ("maintenance", "maintenance"),
    ("emergency", "emergency"),
)


@dataclass
class _Alert:
    name: str
    line: int
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)
    symptoms: list[str] = field(default_factory=list)
    investigation: list[Step] = field(default_factory=list)
    resolution: list[Step] = field(default_factory=list)
    escalation: list[EscalationRule] = field(default_factory=list)


@dataclass
class _Reader:
    source: str
    problems: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""
    h2: tuple[str, int] = ("", 0)
    h3: tuple[str, int] = ("", 0)
    h4: tuple[str, int] = ("", 0)
    alerts: list[_Alert] = field(default_factory=list)
    procedures: dict[tuple[str, ...], tuple[int, list[Step]]] = field(default_factory=dict)
    step: tuple[int, str, int] | None = None  # the open numbered list item: (number, title, line)

    # -- blocks ---------------------------------------------------------------------------
    def commands(self, block: list[BlockLine]) -> list[tuple[int, str, object]]:
        parsed: list[tuple[int, str, object]] = []
        for line, kind, text, indent in split_block(block):
            if kind == "comment":
                parsed.append((line, "comment", text))
                continue
            try:
                parsed.append((line, "command", parse_command(text, line, indent)))
            except ValueError as exc:
                self.problems.append((line, f"cannot split the shell command ({exc}): {text[:80]}"))
        return parsed

    def alert_block(self, block: list[BlockLine]) -> None:
        alert = self.alerts[-1]
        target = {
            "investigation steps": alert.investigation,
            "resolution steps": alert.resolution,
        }.get(self.h4[0].lower())
        if target is None:
            return
        parsed = self.commands(block)
        number, title, line = self.step or (len(target) + 1, self.h4[0], block[0][0] - 1)
        commands = tuple(c for _, kind, c in parsed if kind == "command" and isinstance(c, Command))
        comments = tuple(str(c) for _, kind, c in parsed if kind == "comment")
        if target and target[-1].number == number and target[-1].title == title:
            prev = target.pop()
            commands, comments = prev.commands + commands, prev.comments + comments
            line = prev.line
        target.append(Step(number, title, line, commands, comments))

    def procedure_block(self, block: list[BlockLine]) -> None:
        path = tuple(p for p in (self.h2[0], self.h3[0], self.h4[0]) if p)
        first_line = (self.h4 if self.h4[0] else self.h3)[1]
        _, steps = self.procedures.setdefault(path, (first_line, []))
        for line, kind, item in self.commands(block):
            if kind == "comment":
                match = _STEP_COMMENT.match(str(item))
                if match:
                    steps.append(Step(int(match.group(1)), match.group(2).strip(), line))
                elif steps:
                    steps[-1] = Step(
                        steps[-1].number,
                        steps[-1].title,
                        steps[-1].line,
                        steps[-1].commands,
                        (*steps[-1].comments, str(item)),
                    )
                continue
            if not steps:
                steps.append(Step(1, path[-1], line))
            assert isinstance(item, Command)
            last = steps[-1]
            steps[-1] = Step(
                last.number, last.title, last.line, (*last.commands, item), last.comments
            )

    # -- prose ----------------------------------------------------------------------------
    def alert_line(self, number: int, text: str) -> None:
        alert = self.alerts[-1]
        section = self.h4[0].lower()
        match = _FIELD.match(text)
        if match and not section:
            key = match.group(1).strip().lower()
            if key in alert.fields:
                first = alert.fields[key][1]
                self.problems.append(
                    (
                        number,
                        f"{alert.name}: **{match.group(1)}** given twice (first at line {first})",
                    )
                )
            else:
                alert.fields[key] = (match.group(2), number)
            return
        if text.startswith("- "):
            item = text[2:].strip()
            if section == "symptoms":
                alert.symptoms.append(item)
            elif section == "escalation":
                found = find_duration(item)
                threshold = None
                if found and re.search(r"\bwithin\b", item, re.I):
                    kind = (
                        "positions_closed"
                        if re.search(r"positions?.*closed", item, re.I)
                        else "restore"
                    )
                    threshold = Budget(kind, found[0], item, number)
                alert.escalation.append(EscalationRule(item, number, threshold))
            return
        numbered = _NUMBERED.match(text)
        if numbered and section in ("investigation steps", "resolution steps"):
            title = (numbered.group(2) or numbered.group(3) or "").strip().rstrip(":")
            self.step = (int(numbered.group(1)), title, number)

    def heading(self, number: int, level: int, text: str) -> None:
        self.step = None
        if level == 1:
            self.title = self.title or text
        elif level == 2:
            self.h2, self.h3, self.h4 = (text, number), ("", 0), ("", 0)
        elif level == 3:
            self.h3, self.h4 = (text, number), ("", 0)
            if self.h2[0] == ALERTS_SECTION:
                for earlier in self.alerts:
                    if earlier.name == text:
                        self.problems.append(
                            (
                                number,
                                f"alert {text!r} is defined twice (first at line {earlier.line})",
                            )
                        )
                self.alerts.append(_Alert(text, number))
        elif level == 4:
            self.h4 = (text, number)

    # -- results --------------------------------------------------------------------------
    def finish_alert(self, alert: _Alert) -> AlertSection | None:
        ok = True
        for key, label in (("severity", "Severity"), ("response time", "Response Time")):
            if key not in alert.fields:
                self.problems.append(
                    (
                        alert.line,
                        f"alert {alert.name!r} has no **{label}** line "
                        f"(expected e.g. **{label}**: ...)",
                    )
                )
                ok = False
        if not ok:
            return None
        text, line = alert.fields["response time"]
        found = find_duration(text)
        if found is None:
            self.problems.append(
                (
                    line,
                    f"{alert.name}: response time {text!r} has no duration "
                    "(expected e.g. '< 2 minutes')",
                )
            )
            return None
        return AlertSection(
            name=alert.name,
            severity=alert.fields["severity"][0],
            response_time=Budget("respond", found[0], text, line),
            line=alert.line,
            symptoms=tuple(alert.symptoms),
            investigation=tuple(alert.investigation),
            resolution=tuple(alert.resolution),
            escalation=tuple(alert.escalation),
        )


def _category(path: tuple[str, ...]) -> str:
    """The category from the ``##`` section; database recovery is a part of service recovery."""
    section = path[0].lower()
    if "service recovery" in section and len(path) > 1 and "database" in path[1].lower():
        return "database_recovery"
    for needle, category in _CATEGORIES:
        if needle in section:
            return category
    return "other"


def _window(path: tuple[str, ...], line: int) -> Budget | None:
    heading = path[-1]
    found = find_duration(heading)
    if found is None:
        return None
    kind = "lead_time" if re.search(r"\bT-\s*\d", heading) else "window"
    return Budget(kind, found[0], heading, line)


def parse_runbook(text: str, source: str = "<string>") -> Runbook:
    """Parse runbook markdown; raises :class:`RunbookParseError` listing every problem."""
    reader = _Reader(source)
    fence: tuple[int, list[BlockLine]] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if fence is not None:
            if stripped.startswith("```"):
                block = fence[1]
                if block:
                    if reader.h2[0] == ALERTS_SECTION and reader.alerts:
                        reader.alert_block(block)
                    elif reader.h2[0] and reader.h3[0]:
                        reader.procedure_block(block)
                fence = None
            else:
                fence[1].append((number, raw))
            continue
        if stripped.startswith("```"):
            fence = (number, [])
            continue
        heading = _HEADING.match(stripped)
        if heading:
            reader.heading(number, len(heading.group(1)), heading.group(2))
        elif reader.h2[0] == ALERTS_SECTION and reader.alerts and stripped:
            reader.alert_line(number, stripped)
    if fence is not None:
        reader.problems.append(
            (fence[0], "code block opened here is never closed (expected a closing ```)")
        )
    if not reader.title:
        reader.problems.append((1, "expected a '# Title' heading"))
    if not reader.alerts:
        reader.problems.append(
            (1, f"expected a '## {ALERTS_SECTION}' section with '### AlertName' alerts")
        )
    alerts = [a for a in (reader.finish_alert(x) for x in reader.alerts) if a is not None]
    if reader.problems:
        raise RunbookParseError(source, reader.problems)
    procedures = tuple(
        Procedure(path, _category(path), line, _window(path, line), tuple(steps))
        for path, (line, steps) in reader.procedures.items()
    )
    return Runbook(reader.title, source, tuple(alerts), procedures)


def load_runbook(path: str | Path) -> Runbook:
    """Read and parse a runbook file; errors name the file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunbookParseError(str(p), [(0, f"cannot read the file: {exc}")]) from exc
    return parse_runbook(text, str(p))

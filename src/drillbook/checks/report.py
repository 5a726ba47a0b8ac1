"""The check's report: text grouped by runbook section with line numbers, JSON, JUnit XML."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from drillbook.checks._finding import Finding

__all__ = ["CheckReport", "render"]

FORMATS = ("text", "json", "junit")


@dataclass(frozen=True)
class CheckReport:
    runbook: str
    env: str
    findings: tuple[Finding, ...]
    new: tuple[Finding, ...]  # not in the baseline (all of them without one)
    notes: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # the families that ran
    skipped: tuple[str, ...] = field(default=())  # families not run in this env, and why

    @property
    def failed(self) -> bool:
        return bool(self.new)


def _sorted(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.line, f.check, f.code, f.subject))


def _text(report: CheckReport) -> str:
    new = {f.fingerprint for f in report.new}
    groups: dict[str, list[Finding]] = {}
    for f in _sorted(report.findings):
        groups.setdefault(f.where, []).append(f)
    out = [f"{report.runbook}: runbook check ({report.env}; checks: {', '.join(report.checks)})"]
    for where, items in sorted(groups.items(), key=lambda kv: kv[1][0].line):
        out.append("")
        out.append(where)
        for f in items:
            mark = "NEW " if f.fingerprint in new else ""
            at = f"{report.runbook}:{f.line}" if f.line else f"{report.runbook}:-"
            out.append(f"  {at}: {mark}{f.severity} {f.code}: {f.message}")
            if f.command and f.command != f.message:
                out.append(f"      {f.command[:160]}")
            if f.hint:
                out.append(f"      Hint: {f.hint}")
    for skip in report.skipped:
        out.append(f"\nnot checked: {skip}")
    for note in report.notes:
        out.append(f"note: {note}")
    errors = sum(f.severity == "error" for f in report.findings)
    out.append(
        f"\n{len(report.findings)} finding(s) ({errors} error(s), "
        f"{len(report.findings) - errors} warning(s)); {len(report.new)} new"
    )
    return "\n".join(out)


def _json(report: CheckReport) -> str:
    new = {f.fingerprint for f in report.new}
    return json.dumps(
        {
            "runbook": report.runbook,
            "env": report.env,
            "checks": list(report.checks),
            "skipped": list(report.skipped),
            "notes": list(report.notes),
            "failed": report.failed,
            "findings": [
                {**f.to_json(), "new": f.fingerprint in new} for f in _sorted(report.findings)
            ],
        },
        indent=2,
    )


def _junit(report: CheckReport) -> str:
    """One test suite per check family, one test case per finding (a new one fails)."""
    new = {f.fingerprint for f in report.new}
    suites = ET.Element("testsuites", name=f"runbook check {report.runbook}")
    for check in report.checks:
        items = [f for f in _sorted(report.findings) if f.check == check]
        failures = sum(f.fingerprint in new for f in items)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"runbook.{check}",
            tests=str(max(len(items), 1)),
            failures=str(failures),
        )
        if not items:
            ET.SubElement(suite, "testcase", classname=f"runbook.{check}", name="no findings")
        for f in items:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"runbook.{check}.{f.where}",
                name=f"line {f.line}: {f.code} {f.subject}".strip(),
                file=report.runbook,
                line=str(f.line),
            )
            if f.fingerprint in new:
                failure = ET.SubElement(case, "failure", message=f.message, type=f.code)
                failure.text = f"{f.command}\nHint: {f.hint}" if f.hint else f.command
            else:
                ET.SubElement(case, "skipped", message=f"accepted in the baseline: {f.message}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode")


def render(report: CheckReport, fmt: str) -> str:
    if fmt == "json":
        return _json(report)
    if fmt == "junit":
        return _junit(report)
    return _text(report)

"""Coverage: every alert and procedure of the runbook against its drill, its alert rule and
its budgets; drills for sections the runbook no longer has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.drills import Drill, budgets_for
from drillbook.drills._budgets import stage_name
from drillbook.errors import ConfigError
from drillbook.runbook import Runbook

__all__ = ["DrillRef", "check_coverage", "drill_refs", "rule_names"]

_SOURCE = re.compile(r"^[^:]+:(\d+) (.*)$")
# a project's drill file tightening a runbook time cites both: the runbook's line is inside
_TIGHTENED = re.compile(r"\(runbook [\d.]+s: [^:]+:(\d+) (.*)\)")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class DrillRef:
    """What coverage needs of a drill: its name, alert, budgets, the runbook text it cites."""

    name: str
    alert: str
    tier: str
    budgets: tuple[tuple[str, float, str], ...]  # (measure, seconds, source)
    refs: tuple[str, ...]  # its steps' runbook citations


def drill_refs(drills: list[Drill], tier: str) -> list[DrillRef]:
    return [
        DrillRef(
            d.name,
            d.alert,
            tier,
            tuple((b.measure, b.seconds, b.source) for b in d.budgets),
            tuple(s.runbook for s in (*d.setup, *d.steps) if s.runbook),
        )
        for d in drills
    ]


def rule_names(rules_file: Path) -> list[str]:
    """Alert names of a Prometheus rules file."""
    try:
        data = yaml.safe_load(rules_file.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{rules_file}: cannot read the alert rules: {exc}") from exc
    return [
        str(rule["alert"])
        for group in data.get("groups") or []
        for rule in group.get("rules") or []
        if isinstance(rule, dict) and "alert" in rule
    ]


def _covered(path: tuple[str, ...], drills: list[DrillRef]) -> bool:
    h3 = _norm(path[1]) if len(path) > 1 else ""
    h4 = stage_name(path[2]) if len(path) > 2 else ""
    for drill in drills:
        for ref in (_norm(r) for r in (*drill.refs, drill.alert)):
            if h3 and h3 in ref and (not h4 or _norm(h4.split()[0]) in ref):
                return True
            if h4 and len(h4.split()) >= 3 and _norm(h4) in ref:
                return True
    return False


def _budgets(
    doc: RunbookDoc, drill: DrillRef, runbook: Runbook, tightened_ok: bool = False
) -> list[Finding]:
    out: list[Finding] = []
    alert = runbook.alert(drill.alert)
    expected = {b.measure: (b.seconds, b.source) for b in budgets_for(runbook, drill.alert)}
    for measure, seconds, source in drill.budgets:
        if measure not in ("time_to_respond", "time_to_recover"):
            continue
        want = expected.get(measure)
        line = (
            alert.response_time.line
            if measure == "time_to_respond"
            else (alert.restore_budget.line if alert.restore_budget else alert.line)
        )
        tighter = tightened_ok and want is not None and seconds < want[0]
        if (want is None or want[0] != seconds) and not tighter:
            said = f"{want[0]:g}s ({want[1]})" if want else "no such time"
            out.append(
                doc.at(
                    "coverage",
                    "coverage.budget-mismatch",
                    "error",
                    line,
                    doc.lines[line - 1].strip() if line else drill.alert,
                    f"drill {drill.name} ({drill.tier}) asserts {measure} <= {seconds:g}s "
                    f"(from {source}); this runbook says {said}",
                    hint="the drill's budget and the runbook must agree: fix the runbook, or "
                    "re-measure the drill against the new time",
                    subject=f"{drill.name}:{measure}",
                )
            )
    return out


def _heading_line(doc: RunbookDoc, names: set[str]) -> int:
    """The line of the heading a drill is about (its alert, else the section its steps cite)."""
    best = 0
    for number, raw in enumerate(doc.lines, start=1):
        if raw.startswith("### "):
            head = _norm(raw[4:])
            if head in names:
                return number
            if not best and any(head in n or n in head for n in names if len(n) > 5):
                best = number
    return best


def _borrowed(doc: RunbookDoc, reference: RunbookDoc, drill: DrillRef) -> Finding | None:
    for _measure, _seconds, source in drill.budgets:
        match = _TIGHTENED.search(source) or _SOURCE.match(source)
        if match is None:
            continue
        cited = reference.section(int(match.group(1)))
        names = {_norm(n) for n in cited}
        own = {_norm(drill.alert), *(_norm(r) for r in drill.refs)}
        if any(
            n and any(o.startswith(n) or n in o for o in own)
            for n in names
            if n not in (_norm("Alert Response Procedures"),)
        ):
            continue
        text = match.group(2)
        line = _heading_line(doc, own) or int(match.group(1))
        return doc.at(
            "coverage",
            "coverage.budget-borrowed",
            "warning",
            line,
            text,
            f"the runbook states no time for {drill.alert}: drill {drill.name} borrows "
            f"{' / '.join(cited[1:])}'s ({source})",
            hint=f"give {drill.alert} its own response and restore times in the runbook",
            subject=drill.name,
        )
    return None


def check_coverage(
    doc: RunbookDoc,
    reference: RunbookDoc,
    drills: list[DrillRef],
    rules: list[str],
    experiments: set[str] | None = None,
    *,
    tightened_ok: bool = False,
) -> list[Finding]:
    """``drills`` as shipped (budgets read from ``reference``, the project's runbook) against
    the runbook under check; ``rules`` the alert rules' names; ``experiments`` the names of
    the Chaos Toolkit experiments (``experiments/*.yaml``) that automate the Docker drills.
    ``tightened_ok``: a drill may assert less than the runbook's time (a project's drill file
    tightens by design); asserting more, or a time the runbook no longer states, is a finding."""
    out: list[Finding] = []
    for drill in drills:
        if experiments is not None and drill.tier == "docker" and drill.name not in experiments:
            out.append(
                doc.at(
                    "coverage",
                    "coverage.drill-without-experiment",
                    "error",
                    0,
                    drill.name,
                    f"drill {drill.name} has no Chaos Toolkit experiment "
                    f"(experiments/{drill.name}.yaml)",
                    hint="`drillbook experiments export` writes it",
                    subject=drill.name,
                )
            )
    runbook = doc.runbook
    alerts = {a.name for a in runbook.alerts}
    ref_alerts = {a.name for a in reference.runbook.alerts}
    for alert in runbook.alerts:
        if not any(d.alert == alert.name for d in drills):
            out.append(
                doc.at(
                    "coverage",
                    "coverage.alert-without-drill",
                    "error",
                    alert.line,
                    f"### {alert.name}",
                    f"alert {alert.name} has no drill: nothing proves its procedure works",
                    hint="add a drill to drillbook.drills.catalog (or the Kubernetes catalogue)",
                    subject=alert.name,
                )
            )
        if alert.name not in rules:
            out.append(
                doc.at(
                    "coverage",
                    "coverage.alert-without-rule",
                    "error",
                    alert.line,
                    f"### {alert.name}",
                    f"alert {alert.name} has no alert rule of that name: it never fires",
                    hint="add it to fixtures/monitoring/rules/trading-bot.yml",
                    subject=alert.name,
                )
            )
    headings = {_norm(h) for p in runbook.procedures for h in p.path} | {_norm(a) for a in alerts}
    for rule in rules:
        if _norm(rule) not in headings:
            out.append(
                doc.at(
                    "coverage",
                    "coverage.rule-without-section",
                    "warning",
                    0,
                    rule,
                    f"alert rule {rule} has no runbook section of that name: whoever is paged "
                    "has nothing to look up",
                    hint=f"name a section {rule}, or rename the rule after its section",
                    subject=rule,
                )
            )
    for drill in drills:
        if drill.alert in ref_alerts and drill.alert not in alerts:
            out.append(
                doc.at(
                    "coverage",
                    "coverage.drill-without-section",
                    "error",
                    0,
                    drill.name,
                    f"drill {drill.name} ({drill.tier}) drills alert {drill.alert}, which this "
                    "runbook no longer has",
                    hint=f"restore the {drill.alert} section, or retire the drill",
                    subject=drill.name,
                )
            )
        elif drill.alert in alerts:
            out += _budgets(doc, drill, runbook, tightened_ok)
        else:
            borrowed = _borrowed(doc, reference, drill)
            if borrowed is not None:
                out.append(borrowed)
    seen: set[tuple[str, ...]] = set()
    for proc in runbook.procedures:
        if proc.path in seen or _covered(proc.path, drills):
            continue
        seen.add(proc.path)
        out.append(
            doc.at(
                "coverage",
                "coverage.procedure-without-drill",
                "warning",
                proc.line,
                " / ".join(proc.path[1:]),
                f"procedure {' / '.join(proc.path[1:])} has no drill",
                hint="untested procedures rot first: drill it, or accept the gap in the baseline",
                subject=" / ".join(proc.path),
            )
        )
    return out

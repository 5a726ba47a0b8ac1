"""``drillbook runbook check --project DIR``: a drill project's runbook against its own drills,
alert rules and lab (not the reference stack's manifests and contract)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.checks._run import _probe, exec_in
from drillbook.checks.baseline import Baseline
from drillbook.checks.commands import check_binaries
from drillbook.checks.coverage import check_coverage, drill_refs, rule_names
from drillbook.checks.report import CheckReport
from drillbook.checks.sql import Psycopg, SqlCheck
from drillbook.errors import ConfigError

__all__ = ["run_project_check"]

Say = Callable[[str], None]


def run_project_check(
    runbook: Path,
    drills: Sequence[Any],
    *,
    env: str,
    rules: Path | None = None,
    lab: Any = None,
    roles: Mapping[str, str] | None = None,
    baseline: Baseline | None = None,
    say: Say = lambda _msg: None,
) -> CheckReport:
    """Coverage (every alert and procedure has a drill, every drill a section, budgets as the
    runbook says; alert rules when the project names them); with ``env == "docker"`` and
    ``lab`` (a started DockerLab of the project) every SQL statement on the service playing
    ``postgres`` and the programs ``kubectl exec`` runs, looked up in the containers."""
    if env not in ("offline", "docker"):
        raise ConfigError(
            f"--env {env} with a project: its runbook is checked offline or on its Docker lab",
            hint="use --env docker (SQL and binaries on the project's lab) or --env offline",
        )
    doc = RunbookDoc.load(runbook)
    names = rule_names(rules) if rules else [a.name for a in doc.runbook.alerts]
    refs = drill_refs(list(drills), "docker")
    findings = check_coverage(doc, doc, refs, names, None, tightened_ok=True)
    notes = [] if rules else ["alert rules: the project names none (alert_rules:), not checked"]
    checks = ["coverage"]
    skipped = ["kubectl against manifests and the contract (the reference stack's)"]
    if env == "docker" and lab is not None:
        more, lab_notes = _docker(doc, lab, dict(roles or {}))
        findings += more
        notes += lab_notes
        checks.append("sql")
    else:
        skipped.append("SQL and binaries (--env docker)")
    new = (baseline or Baseline()).new(findings)
    return CheckReport(
        str(runbook), env, tuple(findings), tuple(new), tuple(notes), tuple(checks), tuple(skipped)
    )


def _docker(doc: RunbookDoc, lab: Any, roles: dict[str, str]) -> tuple[list[Finding], list[str]]:
    database = roles.get("postgres", "postgres")
    services = lab.services()
    findings: list[Finding] = []
    notes: list[str] = []
    if database in services:
        url = services[database].url
        parts = urlparse(url)
        name, user = parts.path.lstrip("/") or "postgres", parts.username or "postgres"
        sql = SqlCheck(Psycopg(url), exec_in(lab, database), database=name, user=user)
        more, notes = sql.run(doc)
        findings += more
    else:
        notes.append(f"SQL not run: the lab has no {database!r} service (roles: postgres: NAME)")

    look = _probe(lab)  # the reference check's `command -v`, the runbook's names through roles
    findings += check_binaries(
        doc, lambda service, binary: look(roles.get(service, service), binary)
    )
    notes.append(f"binaries looked up with `command -v` in the containers of lab {lab.name!r}")
    return findings, notes

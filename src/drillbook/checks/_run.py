"""``drillbook runbook check``: the offline checks always; SQL, binaries and HTTP on a Docker
lab; live kubectl on a Kubernetes lab, and SQL, binaries and HTTP in its pods when its nodes are
real. Any lab it starts is removed, whatever happens; a Docker lab that was up before (``--lab``)
is checked as it is and left up."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from drillbook.checks._contract import Contract
from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.checks._manifests import Inventory
from drillbook.checks.baseline import Baseline
from drillbook.checks.calls import lab_get, probe_calls
from drillbook.checks.commands import check_binaries, check_commands
from drillbook.checks.contract import check_contract
from drillbook.checks.coverage import DrillRef, check_coverage, drill_refs, rule_names
from drillbook.checks.kubectl import check_kubectl
from drillbook.checks.live import LiveKubectl
from drillbook.checks.report import CheckReport
from drillbook.checks.sql import Psycopg, SqlCheck
from drillbook.drills._budgets import DEFAULT_RUNBOOK
from drillbook.errors import ConfigError

__all__ = ["ENVS", "CheckOptions", "Project", "docker_checks", "offline_checks", "run_check"]

ENVS = ("offline", "docker", "kubernetes")
Say = Callable[[str], None]


@dataclass(frozen=True)
class Project:
    """Where the checks read what the runbook is checked against."""

    root: Path = DEFAULT_RUNBOOK.parents[1]

    @property
    def reference(self) -> Path:
        return self.root / "fixtures" / "operational-runbooks.md"

    @property
    def manifests(self) -> Path:
        return self.root / "fixtures" / "k8s"

    @property
    def contract(self) -> Path:
        return self.root / "fixtures" / "stack" / "CONTRACT.md"

    @property
    def rules(self) -> Path:
        return self.root / "fixtures" / "monitoring" / "rules" / "trading-bot.yml"


@dataclass(frozen=True)
class CheckOptions:
    runbook: Path
    env: str = "docker"
    lab_name: str = "drillbook-check"
    kubeconfig: str | None = None
    context: str | None = None
    project: Project = Project()
    lab: str | None = None  # a Docker lab that is up: checked as it is, never started or removed

    def __post_init__(self) -> None:
        if self.env not in ENVS:
            raise ConfigError(f"--env {self.env!r}: expected one of {', '.join(ENVS)}")
        if self.lab and self.env != "docker":
            raise ConfigError(
                f"--lab {self.lab}: a Docker lab that is up, checked with --env docker "
                f"(not --env {self.env})"
            )


def _drills(reference: RunbookDoc) -> list[DrillRef]:
    """The drills as shipped, budgets read from the project's runbook."""
    from drillbook.drills.catalog import docker_drills
    from drillbook.drills.kubernetes import kubernetes_drills

    runbook = reference.runbook
    return drill_refs(docker_drills(runbook), "docker") + drill_refs(
        kubernetes_drills(runbook), "kubernetes"
    )


def offline_checks(doc: RunbookDoc, project: Project = Project()) -> list[Finding]:
    """Coverage, kubectl against the manifests, the contract, commands: no lab needed."""
    reference = RunbookDoc.load(project.reference)
    inventory = Inventory.load(project.manifests)
    stack = project.root / "fixtures" / "stack"
    return [
        *check_coverage(
            doc,
            reference,
            _drills(reference),
            rule_names(project.rules),
            {p.stem for p in (project.root / "experiments").glob("*.yaml")},
        ),
        *check_kubectl(doc, inventory),
        *check_contract(doc, Contract.load(project.contract), inventory, stack),
        *check_commands(doc, project.root),
    ]


def exec_in(lab: Any, service: str) -> Callable[[list[str]], tuple[int, str]]:
    """Run argv in ``service``'s container as the ``postgres`` user: how the SQL check reaches
    the database (``psql`` in its own container), its exit code and output."""

    def run(argv: list[str]) -> tuple[int, str]:
        code, out = lab.container(service).exec_run(argv, user="postgres")
        return int(code), out.decode(errors="replace") if isinstance(out, bytes) else str(out)

    return run


def _probe(lab: Any) -> Callable[[str, str], bool | None]:
    def probe(service: str, binary: str) -> bool | None:
        try:
            container = lab.container(service)
        except Exception:  # no such service in the lab: nothing to look in
            return None
        code, _ = container.exec_run(["sh", "-c", f"command -v {shlex.quote(binary)}"])
        return int(code) == 0

    return probe


def docker_checks(doc: RunbookDoc, lab: Any) -> tuple[list[Finding], list[str]]:
    """SQL on the lab's database, binaries in the lab's containers, HTTP GETs to the lab."""

    sql = SqlCheck(Psycopg(lab.services()["postgres"].url), exec_in(lab, "postgres"))
    findings, notes = sql.run(doc)
    findings += check_binaries(doc, _probe(lab))
    findings += probe_calls(doc, lab_get(lab))
    notes.append(f"binaries looked up with `command -v` in the containers of lab {lab.name!r}")
    notes.append("HTTP GETs sent to the lab's fake exchange and backend (loopback; no POST)")
    return findings, notes


#: what the Docker checks need in the lab (their dependencies too)
DOCKER_SERVICES = ("backend", "backup")


def _docker(doc: RunbookDoc, options: CheckOptions, say: Say) -> tuple[list[Finding], list[str]]:
    from drillbook.environments import LabLock
    from drillbook.environments.docker import DockerLab, LabSettings, existing_lab

    if options.lab:  # under its lock: a drill run's faults would be findings
        with LabLock(options.lab).held():
            lab = existing_lab(options.lab, DOCKER_SERVICES)
            say(f"lab {lab.name!r} (--lab: already up, checked as it is and left up)")
            return docker_checks(doc, lab)
    lab = DockerLab(LabSettings(name=options.lab_name, services=DOCKER_SERVICES))
    say(f"lab {lab.name!r}: postgres, backend, backup and their dependencies")
    try:
        lab.start(on_event=say)
        return docker_checks(doc, lab)
    finally:
        lab.stop()


#: what the report says on simulated nodes, where the lab checks cannot run
KWOK_SKIPPED = (
    "SQL, binaries and HTTP in the pods skipped: the nodes are simulated (KWOK), no process "
    "runs there (a cluster with real nodes runs them: drillbook k8s up --nodes real)"
)


def _kubernetes(
    doc: RunbookDoc, options: CheckOptions, say: Say
) -> tuple[list[Finding], list[str], bool]:
    """Live kubectl; on real nodes the lab checks in the pods too. Whether the nodes are real."""
    from drillbook.checks._pods import pod_checks
    from drillbook.environments.kubernetes import (
        ControlPlane,
        ControlPlaneBuild,
        KubernetesLab,
        default_cache,
    )

    plane = None
    applied = None
    try:
        manifests = options.project.manifests
        if options.kubeconfig or options.context:
            lab = KubernetesLab(options.kubeconfig, options.context, manifests=manifests)
        else:
            plane = ControlPlane(ControlPlaneBuild(default_cache()), name=options.lab_name)
            lab = KubernetesLab(plane.up(say=say), manifests=manifests)
        if _namespace_exists(lab):  # a lab already up: checked as it is, left as it is
            say(f"checking the stack already in {lab.name}")
        else:
            say(f"applying the stack to {lab.name}")
            applied = lab
            lab.start()
        findings, notes = LiveKubectl(lab).run(doc)
        real = lab.real_nodes()
        if real:  # SQL, binaries and HTTP in the real pods, as on a Docker lab
            more, pod_notes = pod_checks(doc, lab)
            findings += more
            notes += pod_notes
        else:
            notes.append(KWOK_SKIPPED)
        return findings, notes, real
    finally:
        if plane is not None:
            plane.down(quiet=True)
        elif applied is not None:
            applied.stop()


def _namespace_exists(lab: Any) -> bool:
    from kubernetes.client.exceptions import ApiException

    from kubernetes import client

    try:
        client.CoreV1Api(lab.api).read_namespace(lab.namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _distinct(findings: list[Finding]) -> list[Finding]:
    """The same command twice in one section: the second's fingerprint gets a ``#2``."""
    seen: dict[str, int] = {}
    out = []
    for f in sorted(findings, key=lambda f: (f.line, f.code, f.subject)):
        n = seen.get(f.fingerprint, 0) + 1
        seen[f.fingerprint] = n
        out.append(f if n == 1 else replace(f, subject=f"{f.subject}#{n}"))
    return out


def run_check(
    options: CheckOptions, baseline: Baseline | None = None, say: Say = lambda _msg: None
) -> CheckReport:
    """Raises ConfigError (a bad runbook, option or file, a --lab lab not up or not healthy)
    or LabError (a lab that would not start, or one in use); a lab it started is removed on
    every path."""
    doc = RunbookDoc.load(options.runbook)
    findings = offline_checks(doc, options.project)
    checks = ["coverage", "kubectl", "contract", "commands"]
    notes: list[str] = []
    skipped: list[str] = []
    if options.env == "docker":
        more, notes = _docker(doc, options, say)
        findings += more
        checks.append("sql")
        skipped.append("kubectl live (needs --env kubernetes)")
    elif options.env == "kubernetes":
        more, notes, real = _kubernetes(doc, options, say)
        findings += more
        if real:
            checks.append("sql")
        else:
            skipped.append("SQL, binaries and HTTP (simulated KWOK nodes run no processes)")
    else:
        skipped.append("SQL, binaries (--env docker) and kubectl live (--env kubernetes)")
    unique = _distinct(findings)
    new = (baseline or Baseline()).new(unique)
    return CheckReport(
        str(options.runbook),
        options.env,
        tuple(unique),
        tuple(new),
        tuple(notes),
        tuple(checks),
        tuple(skipped),
    )

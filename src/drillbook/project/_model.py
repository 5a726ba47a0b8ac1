"""The project as typed, frozen objects: what drillbook.yaml and the drill files say."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from drillbook.environments._spec import ServiceSpec
from drillbook.runbook import Runbook
from drillbook.sla import Budget

__all__ = [
    "ENVS",
    "KUBERNETES_VERBS",
    "SERVICE_FIELDS",
    "VERBS",
    "DrillSpec",
    "HealthSpec",
    "InvariantSpec",
    "LabSource",
    "Project",
    "RoleMap",
    "StepSpec",
]

#: the runbook verbs of the Docker platform (``DockerPlatform``) a step may be bound to
VERBS = (
    "restart",
    "start",
    "scale",
    "set_env",
    "patch_resources",
    "rollout_undo",
    "delete_pod",
    "exec",
    "sql",
    "http_call",
    "create_backup",
    "restore_backup",
    "rotate_secret",
)

#: the runbook verbs of the Kubernetes platform (``KubernetesPlatform``) a step may be bound to,
#: beside ``kubectl: COMMAND`` (run through the API) and ``run:`` (an exec in a pod)
KUBERNETES_VERBS = (
    "restart",
    "scale",
    "set_env",
    "patch_resources",
    "delete_pod",
    "rollout_undo",
    "wait_rollout",
    "apply_manifest",
    "create_job_from_cronjob",
    "drain",
    "cordon",
    "exec",
)
ENVS = ("docker", "kubernetes")
#: the parameters of a fault, probe or verb that name a lab service (a Kubernetes fault's
#: ``app`` or ``workload`` too): checked against the lab, mapped through the roles
SERVICE_FIELDS = ("service", "app", "workload")


@dataclass(frozen=True)
class LabSource:
    """Where the lab comes from: a Compose file and/or Kubernetes manifests (with a context)."""

    compose: Path | None = None
    manifests: tuple[Path, ...] = ()
    context: str | None = None
    services: tuple[str, ...] = ()  # Compose services, then manifest workloads
    namespace: str = ""  # the manifests' Namespace (else the project's name is used)
    builtin: str = ""  # "trading-bot": drillbook's reference stack (the shipped example)

    @property
    def kinds(self) -> tuple[str, ...]:
        found: list[str] = [f"builtin {self.builtin}"] if self.builtin else []
        if self.compose is not None:
            found.append("compose")
        if self.manifests:
            found.append("manifests")
        return tuple(found)

    @property
    def envs(self) -> tuple[str, ...]:
        """The lab backends this source gives: docker (Compose, builtin) and/or kubernetes
        (manifests, builtin), the first the default of a drill file without ``env:``."""
        if self.builtin:
            return ("docker", "kubernetes")
        return tuple(
            e
            for e, has in (("docker", self.compose is not None), ("kubernetes", self.manifests))
            if has
        )


@dataclass(frozen=True)
class RoleMap:
    """Runbook role -> lab service, where the names differ; any other name is itself."""

    roles: Mapping[str, str] = field(default_factory=dict)

    def service(self, name: str) -> str:
        return self.roles.get(name, name)


@dataclass(frozen=True)
class HealthSpec:
    """How a service's health is checked: one of an HTTP GET, a TCP connect, a command."""

    service: str
    http: str | None = None  # a path
    port: int | None = None
    command: str | None = None


@dataclass(frozen=True)
class StepSpec:
    """A runbook step and what performs it: ``kind`` is a verb of :data:`VERBS`, ``run``,
    ``kubectl`` or ``todo`` (init left it for a person to bind)."""

    name: str
    kind: str
    params: Mapping[str, Any]  # a verb's arguments; run: service and command; kubectl: command
    line: int
    runbook: str = ""  # the runbook line it implements
    stage: str = ""


@dataclass(frozen=True)
class InvariantSpec:
    """Checked once the lab has recovered: ``sql`` returns no rows, or ``http`` answers."""

    name: str
    kind: Literal["sql", "http"]
    sql: str = ""
    service: str = ""
    port: str = ""
    path: str = "/"
    expect: int = 200
    line: int = 0


@dataclass(frozen=True)
class DrillSpec:
    """One drill as data (or a Python drill by ``module:function``)."""

    name: str
    source: str  # FILE:LINE of its definition
    alert: str = ""
    procedure: str = ""
    fault: str = ""  # a FAULTS name
    fault_params: Mapping[str, Any] = field(default_factory=dict)
    probes: tuple[tuple[str, Mapping[str, Any]], ...] = ()  # PROBES names and parameters
    steps: tuple[StepSpec, ...] = ()
    budgets: tuple[Budget, ...] = ()  # the runbook's, tightened where the file says so
    invariants: tuple[InvariantSpec, ...] = ()
    description: str = ""
    python: str = ""  # module:function for a Python drill
    env: str = "docker"  # the lab backend it runs on (a drill file's env:, a Python entry's)

    @property
    def planned(self) -> bool:
        return self.fault == "scheduled"


@dataclass(frozen=True)
class Project:
    name: str
    root: Path
    runbook: Runbook
    lab: LabSource
    roles: RoleMap
    drills: tuple[DrillSpec, ...]
    health: tuple[HealthSpec, ...] = ()
    secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # env -> services
    alert_rules: Path | None = None
    todos: tuple[str, ...] = ()  # FILE:LINE: field: TODO ..., each left to do
    services: tuple[ServiceSpec, ...] = ()  # the Compose file's services, as the lab runs them
    # what the lab's Prometheus scrapes: (service, port, path); with alert_rules, the Docker
    # lab runs a detection pipeline and drills time their alerts
    monitoring: tuple[tuple[str, int, str], ...] = ()

    def summary(self) -> str:
        lab = " + ".join(self.lab.kinds)
        return (
            f"project {self.name!r}: runbook {Path(self.runbook.source).name} "
            f"({len(self.runbook.alerts)} alerts, {len(self.runbook.procedures)} procedures), "
            f"lab {lab} ({len(self.lab.services)} services), {len(self.drills)} drills"
        )

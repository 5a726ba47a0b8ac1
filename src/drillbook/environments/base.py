"""What drills depend on: an Environment protocol, the Platform verbs both lab backends
implement, and typed handles to the lab's services."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from drillbook.errors import LabError

__all__ = [
    "Endpoint",
    "Environment",
    "ExecResult",
    "Platform",
    "ServiceHandle",
    "ServiceStatus",
    "Tier",
]

#: the lab backends a drill runs on
Tier = Literal["docker", "kubernetes"]


@dataclass(frozen=True)
class Endpoint:
    """A service port as reached from the host: always on loopback.

    ``url`` carries credentials for programs; ``display_url`` is the same with secrets masked,
    the only form that goes to logs and reports.
    """

    name: str
    host: str
    port: int
    container_port: int
    url: str
    display_url: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ServiceHandle:
    """A running lab service: where it is, how it is named on the lab network."""

    name: str
    container_id: str
    container_name: str
    image: str
    aliases: tuple[str, ...]
    endpoints: Mapping[str, Endpoint]

    def endpoint(self, name: str | None = None) -> Endpoint:
        """The endpoint called ``name``, or the service's first one.

        Raises :class:`LabError` when it is not published (the container is not running).
        """
        if name is None and self.endpoints:
            return next(iter(self.endpoints.values()))
        if name is not None and name in self.endpoints:
            return self.endpoints[name]
        raise LabError(
            f"service {self.name!r} has no published endpoint {name or ''}".rstrip(),
            hint="is its container running? (`drillbook lab status`)",
        )

    @property
    def url(self) -> str:
        return self.endpoint().url


@dataclass(frozen=True)
class ExecResult:
    """A command run in a service's container (Docker) or pod (Kubernetes): exit code, output."""

    exit_code: int
    output: str


@dataclass(frozen=True)
class ServiceStatus:
    """One row of ``lab status``."""

    service: str
    container: str
    state: str
    healthy: bool
    detail: str
    endpoint: str


@runtime_checkable
class Environment(Protocol):
    """A lab that drills run against (the Docker lab now; Kubernetes in its own tier)."""

    @property
    def name(self) -> str: ...

    @property
    def run_id(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> object: ...  # what was removed, where the backend can tell

    def services(self) -> Mapping[str, ServiceHandle]: ...

    def status(self) -> list[ServiceStatus]: ...


@runtime_checkable
class Platform(Protocol):
    """The runbook's verbs, as each lab backend performs them: a drill written against this
    protocol runs on the Docker lab (``DockerPlatform``) and on Kubernetes
    (``KubernetesPlatform``) alike. Each verb names the kubectl command it stands for; the
    backends' own verbs (``drain``, ``rotate_secret``, ...) stay on their classes.

    ``service`` is the workload's name in the manifests (``backend``, ``postgres``); ``port``
    the container port they declare (3000, 8080), the same number on both backends.
    """

    evidence_dir: Path | None

    @property
    def tier(self) -> Tier:
        """``docker`` or ``kubernetes``."""
        ...

    @property
    def lab(self) -> Any:
        """The lab the verbs act on (a DockerLab, a KubernetesLab), for the parts that work
        on either by themselves (the fake exchange's admin client)."""
        ...

    def save_evidence(self, name: str, text: str) -> Path:
        """Write ``text`` as ``name`` among the run's evidence, every lab secret redacted."""
        ...

    def runs_processes(self) -> bool:
        """False on simulated (kwok) nodes, where exec, logs and SQL cannot run."""
        ...

    def exec(self, service: str, argv: Sequence[str], *, check: bool = True) -> ExecResult:
        """``kubectl exec deploy/<service> -- ARGV``."""
        ...

    def logs(self, service: str, *, tail: int = 2000) -> str:
        """``kubectl logs deploy/<service>``."""
        ...

    def sql(
        self, query: str, params: Sequence[Any] | None = None, *, service: str = "postgres"
    ) -> Sequence[Sequence[Any]]:
        """``psql -c QUERY`` on the database (``%s`` places filled from ``params``). Values
        come back as each backend reads them (typed on Docker, text on Kubernetes): compare
        through ``str``/``int``."""
        ...

    def http(
        self,
        service: str,
        port: int,
        path: str,
        *,
        method: str = "GET",
        body: Any = None,
        timeout_s: float = 10.0,
    ) -> tuple[int, Any]:
        """``curl -X METHOD localhost:<port><path>`` as the service itself sees it: (status,
        the JSON body, or the text when it is not JSON); an error status still returns it."""
        ...

    def describe(self, service: str) -> str:
        """``kubectl describe pod -l app=<service>``: each replica's state, last termination
        (``OOMKilled``, exit code), restarts and memory limit, one line each."""
        ...

    def restart(self, service: str) -> object:
        """``kubectl rollout restart``."""
        ...

    def set_env(self, service: str, env: Mapping[str, str | None]) -> object:
        """``kubectl set env`` (``None`` unsets), then the rollout finished."""
        ...

    def patch_resources(
        self, service: str, memory: str | None = None, *, cpus: float | None = None
    ) -> object:
        """``kubectl patch ... resources.limits`` with a Kubernetes quantity (``4Gi``) and/or
        cores, then the rollout finished."""
        ...

    def scale(self, service: str, replicas: int) -> int:
        """``kubectl scale --replicas=N``."""
        ...

    def delete_pod(self, service: str) -> None:
        """``kubectl delete pod -l app=<service>``: its controller starts it again."""
        ...

    def rollout_undo(self, service: str) -> object:
        """``kubectl rollout undo``."""
        ...

    def wait_ready(self, service: str, timeout_s: float = 120) -> None:
        """``kubectl wait --for=condition=ready pod -l app=<service>``: a replica serving."""
        ...

    def wait_rollout(self, service: str, timeout_s: float = 120) -> None:
        """``kubectl rollout status``: every replica of the latest revision serving."""
        ...

    def list_backups(self) -> str:
        """``restore.sh --list`` where the runbook runs it (backup-pod): newest first."""
        ...

    def create_backup(self, name: str) -> str:
        """An emergency backup now (``kubectl create job --from=cronjob/postgres-backup``):
        the path it was written to."""
        ...

    def restore_backup(self, path: str) -> str:
        """``restore.sh --file <path>``: its output."""
        ...

    def remember(self, service: str) -> None:
        """``kubectl get deploy/<service> -o yaml > saved``: its configuration (environment,
        limits, replicas), for :meth:`restore` after a drill that changes it."""
        ...

    def restore(self, service: str) -> None:
        """``kubectl apply -f saved``: what :meth:`remember` saved, when it changed since;
        nothing when nothing was remembered."""
        ...

"""What drills depend on: an Environment protocol and typed handles to the lab's services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from drillbook.errors import LabError

__all__ = ["Endpoint", "Environment", "ExecResult", "ServiceHandle", "ServiceStatus"]


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

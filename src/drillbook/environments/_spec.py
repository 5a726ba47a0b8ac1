"""Service specs: how one lab service runs, declared as data so labs add services, not code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from string import Template
from typing import Literal

__all__ = ["HealthCheck", "MountSpec", "PortSpec", "ServiceSpec", "VolumeSpec"]

HealthKind = Literal["postgres", "redis", "amqp", "http", "prometheus", "tcp", "command"]


@dataclass(frozen=True)
class PortSpec:
    """A port the service listens on inside the lab network, published on 127.0.0.1.

    ``url`` is a template formatted with ``host``, ``port`` and the service's environment,
    e.g. ``postgresql://{POSTGRES_USER}:{POSTGRES_PASSWORD}@{host}:{port}/{POSTGRES_DB}``.
    """

    name: str
    container_port: int
    url: str = "tcp://{host}:{port}"


@dataclass(frozen=True)
class HealthCheck:
    """Speak the service's own protocol to its published port until it answers; or, for
    ``kind="command"``, run ``command`` inside its container until it exits 0 (a Compose
    ``healthcheck:``; ``port`` is then empty)."""

    kind: HealthKind
    port: str
    path: str = "/"
    timeout_s: float = 60.0
    poll_s: float = 0.2
    command: tuple[str, ...] = ()


@dataclass(frozen=True)
class VolumeSpec:
    """A named Docker volume (labelled and removed with the lab) mounted at ``target``."""

    name: str
    target: str


@dataclass(frozen=True)
class MountSpec:
    """A project directory (relative to the project root) mounted read-only at ``target``."""

    source: str
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class ServiceSpec:
    """One lab service: its image recipe, command, environment, ports, storage and health.

    ``secrets`` names environment variables whose values the lab generates per run; they are
    passed to the container and never printed (URLs shown to people are redacted). Another
    service's secret is reached as ``${NAME}`` inside an ``env`` value (e.g. a database URL).
    """

    name: str
    image: str  # a recipe name of drillbook.images, or an image reference (Compose labs)
    description: str = ""
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    build: str = ""  # a build context (relative to the project root) for ``image``
    env: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = ()
    ports: tuple[PortSpec, ...] = ()
    aliases: tuple[str, ...] = ()
    volumes: tuple[VolumeSpec, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    health: HealthCheck | None = None
    depends_on: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    mem_limit: str | None = None
    working_dir: str = ""
    user: str = ""
    optional: bool = field(default=False, compare=False)

    def port(self, name: str) -> PortSpec:
        for port in self.ports:
            if port.name == name:
                return port
        raise KeyError(f"service {self.name!r} has no port named {name!r}")

    @property
    def primary_port(self) -> PortSpec | None:
        return self.ports[0] if self.ports else None

    def env_dict(self, secrets: Mapping[str, str] | None = None) -> dict[str, str]:
        """The container's environment: ``env`` with ``${NAME}`` filled from the lab's generated
        secrets, plus this service's own ``secrets`` as variables."""
        secrets = secrets or {}
        env = {k: Template(v).safe_substitute(secrets) for k, v in self.env}
        env.update({k: v for k, v in secrets.items() if k in self.secrets})
        return env

    def with_env(self, **env: str) -> ServiceSpec:
        merged = dict(self.env)
        merged.update(env)
        return replace(self, env=tuple(sorted(merged.items())))

    def with_command(self, *command: str) -> ServiceSpec:
        return replace(self, command=command)

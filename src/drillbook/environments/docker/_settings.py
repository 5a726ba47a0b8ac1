"""Settings of one Docker lab: its name, which services, fixed ports, image source."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from drillbook.environments._spec import ServiceSpec
from drillbook.environments.monitoring import MonitoringSettings
from drillbook.environments.services import SERVICES
from drillbook.errors import ConfigError
from drillbook.images import ImageSource, image_source_from_env

__all__ = ["LabSettings", "parse_port_option", "project_root"]


def project_root() -> Path:
    """Where the stack's code lives: DRILLBOOK_PROJECT_ROOT, else this checkout, else the cwd."""
    if env := os.environ.get("DRILLBOOK_PROJECT_ROOT"):
        return Path(env).resolve()
    checkout = Path(__file__).resolve().parents[4]
    if (checkout / "fixtures" / "stack").is_dir():
        return checkout
    return Path.cwd()


@dataclass(frozen=True)
class LabSettings:
    """How a Docker lab is brought up.

    ``ports`` maps ``service`` (its first port) or ``service.port`` to a fixed host port on
    127.0.0.1; a service without an entry gets a free port chosen by the engine.
    """

    name: str = "drillbook"
    services: tuple[str, ...] | None = None
    ports: Mapping[str, int] = field(default_factory=dict)
    image_source: ImageSource = field(default_factory=image_source_from_env)
    startup_timeout_s: float | None = None
    project_root: Path = field(default_factory=project_root)
    catalog: Sequence[ServiceSpec] = SERVICES
    force: bool = False  # act on same-named containers that lack this lab's labels
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)

    @property
    def network_name(self) -> str:
        return f"{self.name}-net"

    def container_name(self, service: str) -> str:
        return f"{self.name}-{service}"

    def volume_name(self, volume: str) -> str:
        return f"{self.name}-{volume}"

    def service_env(self, service_name: str) -> dict[str, str]:
        """Environment the lab's settings add to a service (e.g. Prometheus' intervals)."""
        return self.monitoring.env_for(service_name)

    def host_port(self, spec: ServiceSpec, port_name: str) -> int | None:
        """The fixed host port asked for, or None for any free one."""
        key = f"{spec.name}.{port_name}"
        if key in self.ports:
            return self.ports[key] or None
        primary = spec.primary_port
        if primary is not None and primary.name == port_name and spec.name in self.ports:
            return self.ports[spec.name] or None
        return None


def parse_port_option(
    values: Sequence[str], catalog: Sequence[ServiceSpec] = SERVICES
) -> dict[str, int]:
    """Parse ``--port SERVICE[.PORT]=N`` options; errors name the option and what was expected."""
    from drillbook.environments.services import service

    parsed: dict[str, int] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not value.isdigit() or not 0 <= int(value) <= 65535:
            raise ConfigError(
                f"--port {raw!r}: expected SERVICE=PORT or SERVICE.PORTNAME=PORT "
                "with PORT a number from 0 to 65535"
            )
        name, _, port_name = key.partition(".")
        spec = service(name, catalog)
        if port_name and port_name not in {p.name for p in spec.ports}:
            raise ConfigError(
                f"--port {raw!r}: service {name!r} has no port named {port_name!r}",
                hint=f"its ports are: {', '.join(p.name for p in spec.ports) or 'none'}",
            )
        parsed[key] = int(value)
    return parsed

"""The lab's services, declared in one place (this package) under the runbook's names.

``data`` holds the data services, ``stack`` the system under test (backend, frontend, fake
exchanges, backup job), ``monitoring`` Prometheus, Alertmanager and the alert responder. A part
of the lab is added by adding a :class:`ServiceSpec` to one of them, never by editing the lab
machinery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from drillbook.environments._spec import ServiceSpec
from drillbook.environments.monitoring import MONITORING_SERVICES
from drillbook.environments.services.data import DATA_SERVICES
from drillbook.environments.services.stack import STACK_SERVICES
from drillbook.errors import ConfigError, UnknownServiceError

__all__ = ["SERVICES", "resolve_services", "service"]

SERVICES: tuple[ServiceSpec, ...] = (*DATA_SERVICES, *STACK_SERVICES, *MONITORING_SERVICES)


def service(name: str, catalog: Sequence[ServiceSpec] = SERVICES) -> ServiceSpec:
    for spec in catalog:
        if spec.name == name:
            return spec
    raise UnknownServiceError(name, [s.name for s in catalog])


def resolve_services(
    names: Iterable[str] | None, catalog: Sequence[ServiceSpec] = SERVICES
) -> list[ServiceSpec]:
    """The specs to start, dependencies included, in start order (dependencies first).

    Raises :class:`UnknownServiceError` for a name not in the catalogue and
    :class:`ConfigError` for a dependency cycle.
    """
    wanted = (
        [service(n, catalog) for n in names] if names else [s for s in catalog if not s.optional]
    )
    ordered: list[ServiceSpec] = []
    visiting: list[str] = []

    def visit(spec: ServiceSpec) -> None:
        if spec in ordered:
            return
        if spec.name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(spec.name) :], spec.name])
            raise ConfigError(f"service dependency cycle: {cycle}")
        visiting.append(spec.name)
        for dep in spec.depends_on:
            visit(service(dep, catalog))
        visiting.pop()
        ordered.append(spec)

    for spec in wanted:
        visit(spec)
    return ordered

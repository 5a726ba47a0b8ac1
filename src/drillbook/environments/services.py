"""The lab's services, declared in one place under the runbook's names.

Later parts of the lab (the backend, the fake exchanges, Prometheus, Alertmanager) are added by
appending a :class:`ServiceSpec` to :data:`SERVICES`, never by editing the lab machinery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from drillbook.environments._spec import HealthCheck, PortSpec, ServiceSpec, VolumeSpec
from drillbook.errors import ConfigError, UnknownServiceError

__all__ = ["SERVICES", "resolve_services", "service"]

SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        name="postgres",
        image="postgres",
        description="PostgreSQL 15, database trading_bot",
        command=("postgres", "-c", "shared_preload_libraries=pg_stat_statements"),
        env=(("POSTGRES_USER", "postgres"), ("POSTGRES_DB", "trading_bot")),
        secrets=("POSTGRES_PASSWORD",),
        ports=(
            PortSpec(
                "postgres",
                5432,
                "postgresql://{POSTGRES_USER}:{POSTGRES_PASSWORD}@{host}:{port}/{POSTGRES_DB}",
            ),
        ),
        aliases=("postgres-service",),
        volumes=(VolumeSpec("postgres-data", "/var/lib/postgresql/data"),),
        health=HealthCheck("postgres", "postgres"),
    ),
    ServiceSpec(
        name="redis",
        image="redis",
        description="Redis 7, market data cache",
        command=("redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", ""),
        ports=(PortSpec("redis", 6379, "redis://{host}:{port}/0"),),
        aliases=("redis-service",),
        health=HealthCheck("redis", "redis"),
    ),
    ServiceSpec(
        name="rabbitmq",
        image="rabbitmq",
        description="RabbitMQ, trade events",
        env=(("RABBITMQ_DEFAULT_USER", "drillbook"),),
        secrets=("RABBITMQ_DEFAULT_PASS",),
        ports=(
            PortSpec(
                "amqp",
                5672,
                "amqp://{RABBITMQ_DEFAULT_USER}:{RABBITMQ_DEFAULT_PASS}@{host}:{port}/%2F",
            ),
        ),
        aliases=("rabbitmq-service",),
        health=HealthCheck("amqp", "amqp", timeout_s=90.0),
    ),
)


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

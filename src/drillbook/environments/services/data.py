"""The stack's data services: PostgreSQL, Redis, RabbitMQ."""

from __future__ import annotations

from drillbook.environments._spec import HealthCheck, PortSpec, ServiceSpec, VolumeSpec

__all__ = ["DATA_SERVICES"]

DATA_SERVICES: tuple[ServiceSpec, ...] = (
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
        # rabbitmq_prometheus serves :15692 inside the lab network; Prometheus scrapes it
        env=(
            ("RABBITMQ_DEFAULT_USER", "drillbook"),
            ("RABBITMQ_ENABLED_PLUGINS", "rabbitmq_prometheus"),
        ),
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

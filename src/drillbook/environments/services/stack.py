"""The system under test: backend, frontend, fake exchanges, backup job (fixtures/stack/).

Their code is mounted read-only from ``fixtures/stack`` into the ``python`` image at ``/app``,
so a code change never rebuilds an image. Names, ports and flags follow
``fixtures/stack/CONTRACT.md``.
"""

from __future__ import annotations

from drillbook.environments._spec import (
    HealthCheck,
    MountSpec,
    PortSpec,
    ServiceSpec,
    VolumeSpec,
)

__all__ = ["BACKEND_ENV", "STACK_SERVICES"]

_STACK = MountSpec("fixtures/stack", "/app")
EXCHANGE_SECRETS = (
    "BINANCE_API_KEY",
    "BINANCE_API_SECRET",
    "KUCOIN_API_KEY",
    "KUCOIN_API_SECRET",
    "KUCOIN_API_PASSPHRASE",
)

BACKEND_ENV: tuple[tuple[str, str], ...] = (
    (
        "DATABASE_URL",
        "postgresql://postgres:${POSTGRES_PASSWORD}@postgres-service:5432/trading_bot",
    ),
    ("REDIS_URL", "redis://redis:6379/0"),
    ("RABBITMQ_URL", "amqp://drillbook:${RABBITMQ_DEFAULT_PASS}@rabbitmq:5672/%2F"),
    ("BINANCE_BASE_URL", "http://exchange:8101"),
    ("KUCOIN_BASE_URL", "http://exchange:8102"),
    ("TRADING_INTERVAL_MS", "500"),
    ("HOLD_TICKS", "4"),
)

STACK_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        name="exchange",
        image="python",
        description="the fake exchange: Binance :8101, KuCoin :8102, fault-control admin :8100",
        command=("python3", "-m", "fake_exchange", "--host", "0.0.0.0", "--log-format", "none"),
        env=(
            (
                "FAKE_EXCHANGE_ACCOUNTS",
                "${BINANCE_API_KEY}:${BINANCE_API_SECRET},"
                "${KUCOIN_API_KEY}:${KUCOIN_API_SECRET}:${KUCOIN_API_PASSPHRASE}",
            ),
        ),
        secrets=EXCHANGE_SECRETS,
        ports=(
            PortSpec("admin", 8100, "http://{host}:{port}"),
            PortSpec("binance", 8101, "http://{host}:{port}"),
            PortSpec("kucoin", 8102, "http://{host}:{port}"),
        ),
        aliases=("api.binance.com", "api.kucoin.com"),
        mounts=(MountSpec("src/fake_exchange", "/app/fake_exchange"),),
        health=HealthCheck("http", "admin", path="/health", timeout_s=30.0, poll_s=0.1),
    ),
    ServiceSpec(
        name="backend",
        image="python",
        description="the trading bot's backend: API :3000, health and metrics :8080",
        command=("python3", "-m", "backend"),
        env=BACKEND_ENV,
        secrets=EXCHANGE_SECRETS,
        ports=(
            PortSpec("health", 8080, "http://{host}:{port}"),
            PortSpec("api", 3000, "http://{host}:{port}"),
        ),
        aliases=("backend-service",),
        mounts=(_STACK,),
        health=HealthCheck("http", "health", path="/health", timeout_s=60.0, poll_s=0.1),
        depends_on=("postgres", "redis", "rabbitmq", "exchange"),
        cap_add=("NET_ADMIN",),
    ),
    ServiceSpec(
        name="frontend",
        image="python",
        description="the dashboard: positions, exposure, health, maintenance notice",
        command=("python3", "-m", "frontend"),
        ports=(PortSpec("http", 8000, "http://{host}:{port}"),),
        mounts=(_STACK,),
        health=HealthCheck("http", "http", path="/healthz"),
        depends_on=("backend",),
    ),
    ServiceSpec(
        name="backup",
        image="python",
        description="the postgres-backup job and backup-pod: /app/scripts/restore.sh, /backups",
        command=("python3", "-m", "backup", "serve"),
        env=(
            ("PGHOST", "postgres-service"),
            ("PGUSER", "postgres"),
            ("PGPASSWORD", "${POSTGRES_PASSWORD}"),
            ("PGDATABASE", "trading_bot"),
            ("BACKUP_INTERVAL_S", "0"),
        ),
        aliases=("backup-pod",),
        volumes=(VolumeSpec("backups", "/backups"),),
        mounts=(_STACK,),
        depends_on=("postgres",),
    ),
)

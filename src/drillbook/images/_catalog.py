"""The lab's base images, declared in one place. Add an image by adding a recipe here."""

from __future__ import annotations

from drillbook.errors import ConfigError
from drillbook.images._recipe import ImageRecipe

__all__ = ["NODE_RECIPE", "RECIPES", "get_recipe"]

# tools every lab image carries: drills inspect processes and filter packets inside a container
_COMMON = ("ca-certificates", "procps", "iproute2", "iptables", "netcat-openbsd")

RECIPES: tuple[ImageRecipe, ...] = (
    ImageRecipe(
        name="postgres",
        description="PostgreSQL 15 (trading_bot database); upstream-compatible entrypoint",
        packages=("postgresql-15", "postgresql-client-15", *_COMMON),
        files=(("/usr/local/bin/docker-entrypoint.sh", "postgres/docker-entrypoint.sh"),),
        entrypoint=("/usr/local/bin/docker-entrypoint.sh",),
        cmd=("postgres",),
        env=(("PGDATA", "/var/lib/postgresql/data"), ("LANG", "C.UTF-8")),
        expose=(5432,),
        upstream="postgres:15",
    ),
    ImageRecipe(
        name="redis",
        description="Redis 7",
        packages=("redis-server", "redis-tools", *_COMMON),
        cmd=("redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"),
        expose=(6379,),
        upstream="redis:7",
    ),
    ImageRecipe(
        name="rabbitmq",
        description="RabbitMQ 3.10; upstream-compatible default user variables",
        packages=("rabbitmq-server", *_COMMON),
        files=(("/usr/local/bin/docker-entrypoint.sh", "rabbitmq/docker-entrypoint.sh"),),
        entrypoint=("/usr/local/bin/docker-entrypoint.sh",),
        cmd=("rabbitmq-server",),
        env=(("LANG", "C.UTF-8"),),
        expose=(5672,),
        upstream="rabbitmq:3-management",
    ),
    ImageRecipe(
        name="python",
        description="Python 3.11 with the runtime dependencies of the stack's own services",
        packages=(
            "python3",
            "python3-aiohttp",
            "python3-asyncpg",
            "python3-psycopg",
            "python3-redis",
            "python3-aio-pika",
            "python3-yaml",
            "postgresql-client-15",
            "curl",
            "gzip",
            "bind9-dnsutils",
            "net-tools",
            *_COMMON,
        ),
        cmd=("python3",),
        env=(("LANG", "C.UTF-8"), ("PYTHONUNBUFFERED", "1"), ("PYTHONPATH", "/app")),
        workdir="/app",
    ),
    ImageRecipe(
        name="monitoring",
        description="Prometheus 2.42 + promtool, Alertmanager 0.25, PostgreSQL and Redis exporters",
        packages=(
            "prometheus",
            "prometheus-alertmanager",
            "prometheus-postgres-exporter",
            "prometheus-redis-exporter",
            "curl",
            *_COMMON,
        ),
        cmd=("prometheus", "--version"),
        env=(("LANG", "C.UTF-8"),),
        workdir="/etc/prometheus",
    ),
)

#: a real Kubernetes node (``drillbook k8s up --nodes real``): containerd and runc from Debian,
#: the CNI plugins; kubelet and kube-proxy are copied in at start from the Go build. Built only
#: when real nodes are asked for, so not in ``RECIPES`` (``drillbook images build``).
NODE_RECIPE = ImageRecipe(
    name="k8s-node",
    description="a Kubernetes node: containerd 1.6, runc, the CNI plugins (kubelet copied in)",
    packages=(
        "containerd",
        "runc",
        "containernetworking-plugins",
        "util-linux",
        "mount",
        "curl",
        *_COMMON,
    ),
    cmd=("sleep", "infinity"),
)


def get_recipe(name: str) -> ImageRecipe:
    """The recipe called ``name``; :class:`ConfigError` naming the known ones otherwise."""
    for recipe in (*RECIPES, NODE_RECIPE):
        if recipe.name == name:
            return recipe
    known = ", ".join(r.name for r in RECIPES)
    raise ConfigError(f"unknown image {name!r}", hint=f"the lab's images are: {known}")

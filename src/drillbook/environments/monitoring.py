"""Detection: Prometheus, Alertmanager, the exporters and drillbook's alert responder.

Their configuration lives with the system under test in ``fixtures/monitoring`` (the alert rules
are the trading team's, named as the runbook names them); the intervals that decide how fast an
alert can fire are lab settings (:class:`MonitoringSettings`), passed to the start scripts as
environment variables.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from drillbook.environments._spec import HealthCheck, MountSpec, PortSpec, ServiceSpec
from drillbook.errors import ConfigError

__all__ = [
    "MONITORING_SERVICES",
    "MonitoringSettings",
    "ScrapeTarget",
    "monitoring_for",
    "prometheus_duration",
]

_REPO = Path(__file__).resolve().parents[3]

_CONFIG = MountSpec("fixtures/monitoring", "/etc/drillbook-monitoring")


def prometheus_duration(seconds: float) -> str:
    """``1.0`` -> ``"1s"``, ``0.5`` -> ``"500ms"``: Prometheus' duration syntax."""
    millis = round(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


@dataclass(frozen=True)
class MonitoringSettings:
    """How fast the lab's detection pipeline runs (tight by default: drills measure seconds).

    The worst-case time from a condition to the responder's webhook is
    ``scrape_interval_s + evaluation_interval_s + for + group_wait_s`` plus the signal's own
    delay; :func:`drillbook.detection.detection_bound` computes it per alert.
    """

    scrape_interval_s: float = 1.0
    evaluation_interval_s: float = 1.0
    group_wait_s: float = 0.0
    group_interval_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("scrape_interval_s", "evaluation_interval_s", "group_interval_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.1):
                raise ConfigError(
                    f"monitoring setting {name}={value!r}: expected a number of seconds >= 0.1"
                )
        if not (math.isfinite(self.group_wait_s) and self.group_wait_s >= 0):
            raise ConfigError(
                f"monitoring setting group_wait_s={self.group_wait_s!r}: "
                "expected a number of seconds >= 0"
            )

    def env_for(self, service_name: str) -> dict[str, str]:
        """The environment a monitoring service's start script reads its settings from."""
        if service_name == "prometheus":
            return {
                "SCRAPE_INTERVAL": prometheus_duration(self.scrape_interval_s),
                "SCRAPE_TIMEOUT": prometheus_duration(self.scrape_interval_s),
                "EVALUATION_INTERVAL": prometheus_duration(self.evaluation_interval_s),
            }
        if service_name == "alertmanager":
            return {
                "GROUP_WAIT": prometheus_duration(self.group_wait_s),
                "GROUP_INTERVAL": prometheus_duration(self.group_interval_s),
            }
        return {}


MONITORING_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        name="responder",
        image="python",
        description="drillbook's alert responder: Alertmanager's webhook, firing/resolved history",
        command=("python3", "/app/alert_receiver.py", "--port", "9095"),
        ports=(PortSpec("http", 9095, "http://{host}:{port}"),),
        mounts=(MountSpec("src/drillbook/detection/receiver.py", "/app/alert_receiver.py"),),
        health=HealthCheck("http", "http", path="/health", timeout_s=30.0, poll_s=0.1),
    ),
    ServiceSpec(
        name="alertmanager",
        image="monitoring",
        description="Alertmanager 0.25: routes every alert to the responder",
        command=("/etc/drillbook-monitoring/start-alertmanager.sh",),
        ports=(PortSpec("http", 9093, "http://{host}:{port}"),),
        mounts=(_CONFIG,),
        health=HealthCheck("http", "http", path="/-/ready", timeout_s=30.0, poll_s=0.1),
        depends_on=("responder",),
    ),
    ServiceSpec(
        name="prometheus",
        image="monitoring",
        description="Prometheus 2.42: scrapes the stack, evaluates the runbook's alert rules",
        command=("/etc/drillbook-monitoring/start-prometheus.sh",),
        ports=(PortSpec("http", 9090, "http://{host}:{port}"),),
        mounts=(_CONFIG,),
        # ready means every target scraped once (service discovery holds the first ~5 s); it
        # depends on nothing, so that wait overlaps the rest of the lab's start
        health=HealthCheck("prometheus", "http", timeout_s=40.0, poll_s=0.2),
    ),
    ServiceSpec(
        name="postgres-exporter",
        image="monitoring",
        description="PostgreSQL exporter: pg_up, pg_stat_activity (DatabaseDown, SlowQueries)",
        command=("prometheus-postgres-exporter", "--web.listen-address=:9187"),
        env=(
            (
                "DATA_SOURCE_NAME",
                "postgresql://postgres:${POSTGRES_PASSWORD}@postgres-service:5432/trading_bot"
                "?sslmode=disable&connect_timeout=1",
            ),
        ),
        ports=(PortSpec("http", 9187, "http://{host}:{port}"),),
        health=HealthCheck("http", "http", path="/metrics", timeout_s=30.0),
        depends_on=("postgres",),
    ),
    ServiceSpec(
        name="redis-exporter",
        image="monitoring",
        description="Redis exporter: redis_up",
        command=(
            "prometheus-redis-exporter",
            "--redis.addr=redis://redis:6379",
            "--web.listen-address=:9121",
        ),
        ports=(PortSpec("http", 9121, "http://{host}:{port}"),),
        health=HealthCheck("http", "http", path="/metrics", timeout_s=30.0),
        depends_on=("redis",),
    ),
)


@dataclass(frozen=True)
class ScrapeTarget:
    """One job Prometheus scrapes: ``address`` (``service:port`` on the lab network), ``path``."""

    job: str
    address: str
    path: str = "/metrics"


def _cache() -> Path:
    return Path(os.environ.get("DRILLBOOK_CACHE") or Path.home() / ".cache/drillbook")


def _prometheus_yml(targets: Sequence[ScrapeTarget]) -> str:
    lines = [
        "# drillbook's Prometheus for a drill project: its targets, its alert rules",
        "global:",
        "  scrape_interval: @SCRAPE_INTERVAL@",
        "  scrape_timeout: @SCRAPE_TIMEOUT@",
        "  evaluation_interval: @EVALUATION_INTERVAL@",
        "  external_labels: {lab: drillbook}",
        "rule_files: [/run/prometheus/rules/*.yml]",
        "alerting:",
        "  alertmanagers:",
        '    - static_configs: [{targets: ["alertmanager:9093"]}]',
        "scrape_configs:",
    ]
    for t in targets:
        lines += [
            f"  - job_name: {t.job!r}",
            f"    metrics_path: {t.path!r}",
            f"    static_configs: [{{targets: [{t.address!r}], labels: {{service: {t.job!r}}}}}]",
        ]
    lines += ["  - job_name: prometheus", '    static_configs: [{targets: ["localhost:9090"]}]']
    return "\n".join(lines) + "\n"


def monitoring_for(rules: Path, targets: Sequence[ScrapeTarget]) -> tuple[ServiceSpec, ...]:
    """The detection pipeline (responder, Alertmanager, Prometheus) for a lab that is not the
    reference stack: Prometheus scrapes ``targets`` and evaluates the ``rules`` file. Its
    configuration is written once per content under ``<cache>/monitoring/<digest>/``
    (``DRILLBOOK_CACHE``, default ``~/.cache/drillbook``), the start scripts and Alertmanager's
    route being the reference lab's; the mounts are absolute, so any project root works."""
    try:
        rules_text = rules.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{rules}: cannot read the alert rules: {exc}") from None
    prometheus_yml = _prometheus_yml(targets)
    digest = hashlib.sha256((prometheus_yml + "\0" + rules_text).encode()).hexdigest()[:16]
    config = _cache() / "monitoring" / digest
    if not (config / "prometheus.yml").is_file():
        staging = config.with_name(f"{digest}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "rules").mkdir(parents=True)
        fixtures = _REPO / "fixtures" / "monitoring"
        for name in ("start-prometheus.sh", "start-alertmanager.sh", "alertmanager.yml"):
            shutil.copy2(fixtures / name, staging / name)
        (staging / "rules" / "project.yml").write_text(rules_text, encoding="utf-8")
        (staging / "prometheus.yml").write_text(prometheus_yml, encoding="utf-8")
        try:
            staging.rename(config)
        except OSError:  # another process wrote the same content first
            shutil.rmtree(staging, ignore_errors=True)
    mount = MountSpec(str(config), "/etc/drillbook-monitoring")
    receiver = MountSpec(
        str(_REPO / "src" / "drillbook" / "detection" / "receiver.py"), "/app/alert_receiver.py"
    )
    by_name = {spec.name: spec for spec in MONITORING_SERVICES}
    return (
        replace(by_name["responder"], mounts=(receiver,)),
        replace(by_name["alertmanager"], mounts=(mount,)),
        replace(by_name["prometheus"], mounts=(mount,)),
    )

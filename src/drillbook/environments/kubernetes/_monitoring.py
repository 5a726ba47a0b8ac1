"""The detection pipeline in a real-node cluster: Prometheus, Alertmanager, the exporters and
drillbook's alert responder, in the namespace ``<lab namespace>-monitoring``.

The same configuration as the Docker lab's (``fixtures/monitoring``: the start scripts, the
Alertmanager route, the team's alert rules) travels in a ConfigMap; only the scrape targets
differ. Prometheus discovers the backend's pods by DNS (Debian's Prometheus is built without
Kubernetes discovery): a headless Service that publishes not-ready pods too, so each replica is
a target of its own and ``max(up{job="backend"}) == 0`` means every replica is down, as the
rules intend (CoreDNS' ``cache 5`` can hide a new pod for up to 5 s; a gone one stays a failing
target as long, which the alert counts as down, as it is). drillbook reaches the three HTTP
APIs through the API server's service proxy (no port of the cluster is opened to the host),
which works on any kubeconfig context.

What it adds to the team's namespace, each named ``drillbook-monitoring...``: the headless
Service of the backend's pods and a NetworkPolicy that lets the PostgreSQL exporter
reach PostgreSQL (the team's ``postgres-ingress`` admits the stack's pods only). A policy only
adds what it allows: the team's policies keep their meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = ["MONITORING_PORTS", "monitoring_namespace", "monitoring_objects"]

_REPO = Path(__file__).resolve().parents[4]
_FIXTURES = _REPO / "fixtures" / "monitoring"
_RECEIVER = _REPO / "src" / "drillbook" / "detection" / "receiver.py"
_CONFIG_DIR = "/etc/drillbook-monitoring"
NAME = "drillbook-monitoring"
BACKEND_PODS = f"{NAME}-backend"
_DIGEST = "drillbook.io/config-digest"

#: the HTTP API of each service drillbook talks to, as its Service names the port
MONITORING_PORTS = {"prometheus": 9090, "alertmanager": 9093, "responder": 9095}


def monitoring_namespace(namespace: str) -> str:
    """Where the pipeline of the lab in ``namespace`` runs."""
    return f"{namespace}-monitoring"


def _prometheus_yml(namespace: str) -> str:
    """The Docker lab's ``prometheus.yml`` with the cluster's targets (placeholders kept for
    ``start-prometheus.sh``)."""
    svc = f"{namespace}.svc"
    return yaml.safe_dump(
        {
            "global": {
                "scrape_interval": "@SCRAPE_INTERVAL@",
                "scrape_timeout": "@SCRAPE_TIMEOUT@",
                "evaluation_interval": "@EVALUATION_INTERVAL@",
                "external_labels": {"lab": "drillbook"},
            },
            "rule_files": ["/run/prometheus/rules/*.yml"],
            "alerting": {
                "alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]
            },
            "scrape_configs": [
                {
                    "job_name": "backend",  # every replica its own target
                    "dns_sd_configs": [
                        {
                            "names": [f"{BACKEND_PODS}.{svc}.cluster.local"],
                            "type": "A",
                            "port": 8080,
                            "refresh_interval": "1s",
                        }
                    ],
                    "relabel_configs": [{"target_label": "service", "replacement": "backend"}],
                },
                _static("exchange", f"exchange.{svc}:8100"),
                _static("postgres", "postgres-exporter:9187"),
                _static("redis", "redis-exporter:9121"),
                {"job_name": "prometheus", "static_configs": [{"targets": ["localhost:9090"]}]},
            ],
        },
        sort_keys=False,
    )


def _static(job: str, target: str) -> dict[str, Any]:
    return {
        "job_name": job,
        "static_configs": [{"targets": [target], "labels": {"service": job}}],
    }


def _meta(name: str, namespace: str, app: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "labels": {"app": app or name, "drillbook.io/part": NAME},
    }


def _service(name: str, namespace: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace),
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": port}]},
    }


def _deployment(
    name: str,
    namespace: str,
    image: str,
    command: list[str],
    port: int,
    ready_path: str,
    *,
    env: list[dict[str, Any]] | None = None,
    mounts: Sequence[tuple[str, str, int | None]] = (),
    digest: str = "",
) -> dict[str, Any]:
    """One replica of ``command`` in ``image``; ``mounts``: (ConfigMap, path, file mode)."""
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "ports": [{"name": "http", "containerPort": port}],
        "readinessProbe": {
            "httpGet": {"path": ready_path, "port": port},
            "periodSeconds": 1,
        },
        "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}},
        "env": env or [],
        "volumeMounts": [{"name": cm, "mountPath": path} for cm, path, _ in mounts],
    }
    spec: dict[str, Any] = {
        "containers": [container],
        "terminationGracePeriodSeconds": 2,
        "volumes": [
            {"name": cm, "configMap": {"name": cm, "defaultMode": mode or 0o644, **_items(cm)}}
            for cm, _, mode in mounts
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                # a changed configuration restarts the pod (a ConfigMap alone would not)
                "metadata": {"labels": {"app": name}, "annotations": {_DIGEST: digest}},
                "spec": spec,
            },
        },
    }


def _items(configmap: str) -> dict[str, Any]:
    """The rule files sit in ``rules/`` of the configuration (a key cannot hold a ``/``)."""
    if configmap != NAME:
        return {}
    return {"items": [{"key": k, "path": p} for k, p in _config_files().items()]}


def _config_files() -> dict[str, str]:
    """ConfigMap key -> path under the configuration directory."""
    files = {n: n for n in ("start-prometheus.sh", "start-alertmanager.sh", "alertmanager.yml")}
    files["prometheus.yml"] = "prometheus.yml"
    for rule in sorted((_FIXTURES / "rules").glob("*.yml")):
        files[f"rules.{rule.name}"] = f"rules/{rule.name}"
    return files


def _config_data(namespace: str) -> dict[str, str]:
    data = {}
    for key, path in _config_files().items():
        if key == "prometheus.yml":
            data[key] = _prometheus_yml(namespace)
        else:
            data[key] = (_FIXTURES / path).read_text()
    return data


def monitoring_objects(
    namespace: str,
    settings_env: dict[str, dict[str, str]],
    postgres_dsn: str,
    *,
    monitoring_image: str = "drillbook/monitoring:lab",
    python_image: str = "drillbook/python:lab",
) -> list[dict[str, Any]]:
    """The objects to apply, in order, for the lab in ``namespace``. ``settings_env``: each
    start script's environment (``MonitoringSettings.env_for``); ``postgres_dsn``: the
    exporter's connection string (a secret: it goes into a Secret, never into a log)."""
    import hashlib
    import json

    mns = monitoring_namespace(namespace)
    config = _config_data(namespace)
    receiver = _RECEIVER.read_text()
    digest = hashlib.sha256(
        json.dumps([config, receiver, settings_env], sort_keys=True).encode()
    ).hexdigest()[:16]

    def env(service: str) -> list[dict[str, str]]:
        return [{"name": k, "value": v} for k, v in settings_env.get(service, {}).items()]

    # Prometheus and Alertmanager: their start scripts, settings from the environment
    prometheus, alertmanager = (
        _deployment(
            name,
            mns,
            monitoring_image,
            [f"{_CONFIG_DIR}/start-{name}.sh"],
            MONITORING_PORTS[name],
            "/-/ready",
            env=env(name),
            mounts=[(NAME, _CONFIG_DIR, 0o755)],
            digest=digest,
        )
        for name in ("prometheus", "alertmanager")
    )
    responder = _deployment(
        "responder",
        mns,
        python_image,
        ["python3", "/app/alert_receiver.py", "--port", "9095"],
        9095,
        "/health",
        mounts=[("responder", "/app", None)],
        digest=digest,
    )
    pg_exporter = _deployment(
        "postgres-exporter",
        mns,
        monitoring_image,
        ["prometheus-postgres-exporter", "--web.listen-address=:9187"],
        9187,
        "/metrics",
        env=[
            {
                "name": "DATA_SOURCE_NAME",
                "valueFrom": {"secretKeyRef": {"name": "postgres-exporter", "key": "dsn"}},
            }
        ],
    )
    redis_exporter = _deployment(
        "redis-exporter",
        mns,
        monitoring_image,
        [
            "prometheus-redis-exporter",
            f"--redis.addr=redis://redis.{namespace}.svc:6379",
            "--web.listen-address=:9121",
        ],
        9121,
        "/metrics",
    )
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": mns, "labels": {"drillbook.io/part": NAME}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(BACKEND_PODS, namespace, NAME),
            "spec": {
                "clusterIP": "None",
                "publishNotReadyAddresses": True,
                "selector": {"app": "backend"},
                "ports": [{"name": "health", "port": 8080}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(f"{NAME}-postgres", namespace, NAME),
            "spec": {
                "podSelector": {"matchLabels": {"app": "postgres"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": mns}
                                },
                                "podSelector": {"matchLabels": {"app": "postgres-exporter"}},
                            }
                        ],
                        "ports": [{"port": 5432, "protocol": "TCP"}],
                    }
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(NAME, mns),
            "data": config,
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("responder", mns),
            "data": {"alert_receiver.py": receiver},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta("postgres-exporter", mns),
            "type": "Opaque",
            "stringData": {"dsn": postgres_dsn},
        },
        responder,
        _service("responder", mns, 9095),
        alertmanager,
        _service("alertmanager", mns, 9093),
        prometheus,
        _service("prometheus", mns, 9090),
        pg_exporter,
        _service("postgres-exporter", mns, 9187),
        redis_exporter,
        _service("redis-exporter", mns, 9121),
    ]

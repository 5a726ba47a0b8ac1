"""The Kubernetes manifests carry the runbook's exact names (checked offline; the server-side
dry-run against a real API server comes with the control plane)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "fixtures" / "k8s"


def objects() -> list[dict[str, Any]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def get(kind: str, name: str) -> dict[str, Any]:
    for obj in objects():
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind}/{name} in fixtures/k8s")


def test_every_object_lives_in_trading_bot() -> None:
    for obj in objects():
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "trading-bot", obj["metadata"]["name"]
    assert get("Namespace", "trading-bot")["metadata"]["labels"]["drillbook.lab"] == "true"


@pytest.mark.parametrize(
    ("kind", "name", "replicas", "container"),
    [
        ("Deployment", "backend", 3, "backend"),
        ("Deployment", "frontend", 2, "frontend"),
        ("Deployment", "redis", 1, "redis"),
        ("Deployment", "rabbitmq", 1, "rabbitmq"),
        ("StatefulSet", "postgres", 1, "postgres"),
    ],
)
def test_workloads_match_the_runbook(kind: str, name: str, replicas: int, container: str) -> None:
    obj = get(kind, name)
    assert obj["spec"]["replicas"] == replicas
    labels = obj["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app": name}  # the runbook selects with -l app=NAME
    [c] = obj["spec"]["template"]["spec"]["containers"]
    assert c["name"] == container  # the runbook patches containers by name
    assert c["resources"]["requests"]
    assert c["resources"]["limits"]["memory"]


def test_storage_services_jobs_and_secrets_have_the_runbook_names() -> None:
    pvc = get("PersistentVolumeClaim", "postgres-pvc")
    assert pvc["spec"]["resources"]["requests"]["storage"]
    volumes = get("StatefulSet", "postgres")["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["persistentVolumeClaim"]["claimName"] == "postgres-pvc"
    assert get("Service", "postgres-service")["spec"]["ports"][0]["port"] == 5432
    backend_ports = {p["port"] for p in get("Service", "backend-service")["spec"]["ports"]}
    assert backend_ports == {3000, 8080}
    assert get("CronJob", "postgres-backup")["spec"]["schedule"]
    assert get("Pod", "backup-pod")
    assert set(get("Secret", "exchange-api-secrets")["stringData"]) >= {
        "BINANCE_API_KEY",
        "BINANCE_API_SECRET",
    }
    assert get("Secret", "trading-bot-secrets")
    assert {o["metadata"]["name"] for o in objects() if o["kind"] == "NetworkPolicy"}


def test_no_secret_value_is_committed() -> None:
    for obj in objects():
        if obj["kind"] == "Secret":
            for key, value in obj["stringData"].items():
                assert "${" in value, f"{obj['metadata']['name']}.{key} holds a literal value"

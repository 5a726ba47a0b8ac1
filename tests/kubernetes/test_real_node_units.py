"""Real-node parts without a cluster: the detection pipeline's objects (data), the Detection
client's transport hook and the platform's psql rows (fakes for the transport and the exec)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from drillbook.detection import Detection
from drillbook.environments.kubernetes._monitoring import monitoring_objects
from drillbook.errors import LabError

ENV = {"prometheus": {"SCRAPE_INTERVAL": "1s"}, "alertmanager": {"GROUP_WAIT": "0s"}}


def _by(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_the_pipeline_runs_beside_the_lab_with_the_docker_labs_configuration() -> None:
    objects = monitoring_objects("trading-bot", ENV, "postgresql://postgres:s3cret@pg/x")
    assert objects[0] == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "trading-bot-monitoring",
            "labels": {"drillbook.io/part": "drillbook-monitoring"},
        },
    }
    config = _by(objects, "ConfigMap", "drillbook-monitoring")["data"]
    # the team's rules and the start scripts, as the Docker lab mounts them
    assert "alert: TradingBotDown" in config["rules.trading-bot.yml"]
    assert config["start-prometheus.sh"].startswith("#!/bin/sh")
    prometheus = yaml.safe_load(config["prometheus.yml"])
    jobs = {j["job_name"]: j for j in prometheus["scrape_configs"]}
    # each backend replica a target: the headless Service that publishes not-ready pods too
    (sd,) = jobs["backend"]["dns_sd_configs"]
    assert sd["names"] == ["drillbook-monitoring-backend.trading-bot.svc.cluster.local"]
    headless = _by(objects, "Service", "drillbook-monitoring-backend")
    assert headless["metadata"]["namespace"] == "trading-bot"
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert jobs["exchange"]["static_configs"][0]["targets"] == ["exchange.trading-bot.svc:8100"]
    # the settings reach the start scripts by environment
    deploy = _by(objects, "Deployment", "prometheus")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "SCRAPE_INTERVAL", "value": "1s"} in container["env"]


def test_the_exporters_password_is_in_a_secret_and_a_policy_lets_it_reach_postgres() -> None:
    objects = monitoring_objects("trading-bot", ENV, "postgresql://postgres:s3cret@pg/x")
    secret = _by(objects, "Secret", "postgres-exporter")
    assert secret["stringData"] == {"dsn": "postgresql://postgres:s3cret@pg/x"}
    others = [o for o in objects if o["kind"] != "Secret"]
    assert "s3cret" not in json.dumps(others)
    policy = _by(objects, "NetworkPolicy", "drillbook-monitoring-postgres")
    assert policy["metadata"]["namespace"] == "trading-bot"
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "trading-bot-monitoring"}
    }


def test_a_changed_configuration_changes_the_pod_template() -> None:
    """A ConfigMap change alone restarts nothing: the digest in the template does."""

    def digest(env: dict[str, dict[str, str]]) -> str:
        objects = monitoring_objects("trading-bot", env, "dsn")
        meta = _by(objects, "Deployment", "prometheus")["spec"]["template"]["metadata"]
        return str(meta["annotations"]["drillbook.io/config-digest"])

    assert digest(ENV) == digest(ENV)
    assert digest(ENV) != digest({"prometheus": {"SCRAPE_INTERVAL": "2s"}})


def test_detection_sends_its_requests_through_the_transport_it_is_given() -> None:
    seen: list[tuple[str, str]] = []

    def fetch(url: str, method: str, body: bytes | None, timeout_s: float) -> bytes:
        seen.append((method, url))
        if url.startswith("responder/alerts"):
            return b'{"seq": 7, "events": []}'
        raise LabError(f"{method} {url} answered 503: no endpoints")

    detection = Detection("prometheus", "alertmanager", "responder", fetch=fetch)
    assert detection.mark() == 7
    assert seen == [("GET", f"responder/alerts?since={2**62}")]
    with pytest.raises(LabError, match="503: no endpoints"):
        detection.query("up")


class _NoPipeline:
    name = "ctx/trading-bot"
    monitoring_namespace = "trading-bot-monitoring"

    def has_monitoring(self) -> bool:
        return False


def test_a_kubernetes_lab_without_the_pipeline_is_told_where_it_runs() -> None:
    with pytest.raises(LabError, match="no detection pipeline") as caught:
        Detection.for_kubernetes(_NoPipeline())
    assert "real nodes" in (caught.value.hint or "")


def test_sql_rows_keep_null_as_none() -> None:
    """psql's NULL mark (\\x1e) is a line boundary for str.splitlines: a NULL must stay a
    column, read as None, not split its row in two."""
    from drillbook.environments.kubernetes import KubernetesPlatform
    from drillbook.environments.kubernetes._platform import ExecResult

    class _Platform(KubernetesPlatform):
        def __init__(self) -> None:  # no lab: exec is the fake below
            pass

        def real_nodes(self) -> bool:
            return True

        def exec(self, service: str, argv: Any, *, check: bool = True) -> ExecResult:
            return ExecResult(0, "\x1e\x1f1\nx\x1f2\n")

    assert _Platform().sql("SELECT NULL::text, 1") == [(None, "1"), ("x", "2")]

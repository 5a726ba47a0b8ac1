"""The Kubernetes lab applies the stack to a lab context only, waits until every workload is
ready on the kwok nodes, provides the postgres claim its volume, and removes everything."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from drillbook.environments.kubernetes import KubernetesLab, allowed_context
from drillbook.errors import ConfigError


def kubeconfig(tmp_path: Path, context: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
                "current-context": context,
            }
        )
    )
    return path


def test_a_context_outside_the_lab_is_refused_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="refusing context 'prod-eu': not a lab context"):
        KubernetesLab(kubeconfig(tmp_path, "prod-eu"))


def test_a_missing_context_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="has no context 'drillbook-x'"):
        KubernetesLab(kubeconfig(tmp_path, "drillbook-tests"), context="drillbook-x")


def test_the_allow_list_takes_named_contexts(monkeypatch: pytest.MonkeyPatch) -> None:
    assert allowed_context("drillbook-tests")
    assert allowed_context("kind-drillbook")
    assert not allowed_context("staging")
    monkeypatch.setenv("DRILLBOOK_K8S_CONTEXTS", "staging, qa")
    assert allowed_context("staging")
    assert allowed_context("qa")


def test_secrets_are_generated_and_never_left_as_placeholders(tmp_path: Path) -> None:
    lab = KubernetesLab(kubeconfig(tmp_path, "drillbook-tests"))
    secrets = [d for d in lab.documents() if d["kind"] == "Secret"]
    values = [v for d in secrets for v in d["stringData"].values()]
    assert values
    assert not any("${" in v for v in values)
    again = [v for d in lab.documents() if d["kind"] == "Secret" for v in d["stringData"].values()]
    assert again == values  # one value per placeholder for the lab's life


@pytest.mark.kubernetes
def test_the_stack_comes_up_on_the_control_plane_and_goes(control_plane: Path, api: Any) -> None:
    from kubernetes import client

    lab = KubernetesLab(control_plane)
    try:
        lab.start(timeout_s=120)
        rows = {r.service: r for r in lab.status()}
        assert set(rows) >= {"backend", "frontend", "postgres", "redis", "rabbitmq"}
        assert all(r.healthy for r in rows.values()), rows
        assert rows["backend"].state == "3/3 ready"  # the runbook's three replicas
        assert "backend-service" in lab.services()["backend"].aliases
        pvc = client.CoreV1Api(api).read_namespaced_persistent_volume_claim(
            "postgres-pvc", "trading-bot"
        )
        assert pvc.status.phase == "Bound"
        assert lab.run_id
        # a second `lab up` (another process) keeps the secrets the database was made with
        core = client.CoreV1Api(api)

        def digest() -> str:  # compared by digest: a failure must not print the values
            data = core.read_namespaced_secret("trading-bot-secrets", "trading-bot").data
            return hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()

        before = digest()
        again = KubernetesLab(control_plane)
        again.start(timeout_s=120)
        assert digest() == before
        assert again.run_id == lab.run_id
    finally:
        removed = lab.stop()
    assert "namespace trading-bot" in removed
    assert "persistentvolume trading-bot-postgres-pvc" in removed
    assert (
        not client.CoreV1Api(api).list_namespace(field_selector="metadata.name=trading-bot").items
    )


def test_a_wait_that_runs_out_says_what_for_how_long_and_what_it_saw(
    control_plane: Path,
) -> None:
    """Every wait on the lab is a drillbook Wait: a LabError naming what was awaited, for how
    long, and what was seen last; an API error is said at once, not waited out."""
    from kubernetes.client.exceptions import ApiException

    from drillbook.environments.kubernetes import KubernetesPlatform
    from drillbook.errors import LabError

    lab = KubernetesLab(control_plane, namespace="drillbook-nothing-here")
    with pytest.raises(LabError) as info:
        lab.wait_ready(timeout_s=0.6)
    assert str(info.value).startswith(
        f"{lab.name}: timed out after 0.6s waiting for every workload ready; "
        "last observed: no Deployment or StatefulSet\nHint: kubectl --context "
    )
    started = time.monotonic()
    with pytest.raises(ApiException) as refused:
        KubernetesPlatform(lab).wait_rollout("backend", timeout_s=30)
    assert refused.value.status == 404
    assert time.monotonic() - started < 10

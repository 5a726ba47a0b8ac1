"""The runbook's kubectl commands against a live API server (a local control plane with the
stack applied, one per module): reads, server-side dry-runs, placeholders from the cluster;
the findings exactly, mutations found live, and nothing changed by the dry runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drillbook.checks import Finding, RunbookDoc
from drillbook.checks.live import LiveKubectl

pytestmark = pytest.mark.kubernetes

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "fixtures" / "operational-runbooks.md"
TEXT = RUNBOOK.read_text()
EXPECTED = {
    (42, "kubectl.live-no-metrics", "metrics.k8s.io"),  # kubectl top: no metrics-server
    (406, "kubectl.live-no-metrics", "metrics.k8s.io"),
    (409, "kubectl.live-unresolved", "prometheus-pod"),
    (435, "kubectl.live-no-metrics", "metrics.k8s.io"),
    (719, "kubectl.live-not-found", "Namespace/trading-bot-staging"),
}


@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    from drillbook.environments.kubernetes import (
        ControlPlane,
        ControlPlaneBuild,
        KubernetesLab,
        default_cache,
    )

    plane = ControlPlane(ControlPlaneBuild(default_cache()), name=f"check-{os.getpid()}", nodes=3)
    try:
        lab = KubernetesLab(plane.up(say=lambda _msg: None))
        lab.start()
        yield lab
    finally:
        plane.down(quiet=True)


def _live(lab: Any, text: str) -> tuple[list[Finding], list[str]]:
    return LiveKubectl(lab).run(RunbookDoc.from_text(text, "copy.md"))


def _keys(findings: list[Finding]) -> set[tuple[int, str, str]]:
    return {(f.line, f.code, f.subject) for f in findings}


def test_the_runbook_against_the_live_cluster(lab: Any) -> None:
    from kubernetes import client

    apps = client.AppsV1Api(lab.api)
    before = apps.read_namespaced_deployment("backend", "trading-bot")
    findings, notes = _live(lab, TEXT)
    assert _keys(findings) == EXPECTED
    assert any(n.startswith("line 109: <postgres-pod> resolved to postgres-0") for n in notes)
    assert any("line 831: <node-name> resolved to kwok-node-" in n for n in notes)
    after = apps.read_namespaced_deployment("backend", "trading-bot")
    # every scale, patch, set env, restart and delete was a dry run
    assert after.metadata.generation == before.metadata.generation
    assert after.spec.replicas == before.spec.replicas
    core = client.CoreV1Api(lab.api)
    assert core.read_namespaced_secret("exchange-api-secrets", "trading-bot").metadata.name


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "kubectl get pvc -n trading-bot\n",
            "kubectl get pvc -n trading-bots\n",
            (119, "kubectl.live-not-found", "Namespace/trading-bots"),
        ),
        (
            "kubectl get pods -n trading-bot -l app=redis",
            "kubectl get pods -n trading-bot -l app=rediss",
            (49, "kubectl.live-selector-empty", "app=rediss"),
        ),
        (
            "kubectl scale deployment frontend --replicas=1 -n trading-bot\n   ```",
            "kubectl scale deployment frontnd --replicas=1 -n trading-bot\n   ```",
            (69, "kubectl.live-not-found", "Deployment/frontnd"),
        ),
        (
            '"containers":[{"name":"postgres","resources"',
            '"containers":[{"name":"db","resources"',
            (486, "kubectl.live-refused", "patch"),
        ),
    ],
)
def test_a_broken_command_is_found_live(
    lab: Any, old: str, new: str, expected: tuple[int, str, str]
) -> None:
    assert old in TEXT
    findings, _ = _live(lab, TEXT.replace(old, new, 1))
    assert _keys(findings) - EXPECTED == {expected}


def test_a_refused_patch_carries_the_api_servers_message(lab: Any) -> None:
    text = TEXT.replace(
        '"containers":[{"name":"postgres","resources"', '"containers":[{"name":"db","resources"'
    )
    findings, _ = _live(lab, text)
    (refused,) = [f for f in findings if f.code == "kubectl.live-refused"]
    assert refused.message.startswith(
        'the API server refused it: StatefulSet.apps "postgres" is invalid'
    )
    assert "image: Required value" in refused.message


def test_the_cli_checks_a_running_lab_and_leaves_it_as_it_is(lab: Any) -> None:
    import subprocess
    import sys

    from kubernetes import client

    result = subprocess.run(
        [sys.executable, "-m", "drillbook", "runbook", "check", "--env", "kubernetes",
         "--kubeconfig", lab.kubeconfig, "--format", "junit",
         "--baseline", str(ROOT / "fixtures" / "runbook-baseline.json")],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "checking the stack already in drillbook-check-" in result.stderr
    assert 'name="runbook.kubectl"' in result.stdout
    # the namespace it found is still there, workloads and all
    core = client.CoreV1Api(lab.api)
    assert core.read_namespace("trading-bot").status.phase == "Active"
    assert client.AppsV1Api(lab.api).read_namespaced_deployment("backend", "trading-bot")

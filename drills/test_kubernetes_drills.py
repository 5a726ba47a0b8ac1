"""Drills on the Kubernetes tier, against the real control plane (kwok nodes): TradingBotDown by
pod kill, a bad rollout and a node NotReady, DatabaseDown by a claim Pending, a partition made of
NetworkPolicy; each with a sabotaged remediation that breaches."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.drills import default_runbook
from drillbook.drills.kubernetes import REAL_NODES_ONLY, kubernetes_drills
from drillbook.environments.kubernetes import (
    ControlPlane,
    ControlPlaneBuild,
    KubernetesLab,
    default_cache,
)
from drillbook.sla import Profile
from support.labtools import kubernetes_runner, run_harmful, run_sabotaged

pytestmark = pytest.mark.kubernetes

# on simulated nodes: not the drills that need processes (tests/kubernetes/test_real_nodes.py)
CATALOG = {d.name: d for d in kubernetes_drills(default_runbook()) if d.name not in REAL_NODES_ONLY}
PROFILE = Profile("k8s", limits={"time_to_recover": 60}, settle_s=1.0)
STRICT = Profile("sabotage", limits={"time_to_recover": 6}, settle_s=1.0)


@pytest.fixture(scope="module")
def k8s(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubernetesLab]:
    plane = ControlPlane(ControlPlaneBuild(default_cache()), name=f"drills-{os.getpid()}")
    kubeconfig = plane.up(say=lambda _msg: None)
    try:
        lab = KubernetesLab(kubeconfig)
        lab.start(timeout_s=120)
        yield lab
    finally:
        plane.down(quiet=True)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_kubernetes_drill_recovers_within_budget(
    k8s: KubernetesLab, name: str, tmp_path: Path
) -> None:
    result = kubernetes_runner(k8s, PROFILE, tmp_path).run(CATALOG[name])
    result.raise_for_outcome()
    assert result.steady_after
    assert result.reverted
    assert "time_to_recover" in result.measured
    if name == "postgres-claim-pending":
        described = (tmp_path / "pvc-describe.txt").read_text()
        assert "class=fast-ssd" in described  # what the investigation saw
        assert "storageclass standard" in described
    if name == "postgres-claim-over-quota":
        quota = (tmp_path / "quota-describe.txt").read_text()
        assert "resourcequota drillbook-storage-quota" in quota
        assert "requests.storage" in quota
    if name == "backend-policy-partitioned":
        policies = (tmp_path / "networkpolicies.txt").read_text()
        assert "chaostoolkit-deny-all-egress" in policies  # what the investigation saw
        assert "backend-egress" not in policies
    if name == "backend-bad-rollout":
        assert len((tmp_path / "rollout-history.txt").read_text().splitlines()) >= 2
    if name == "node-not-ready":
        assert "Ready=False" in (tmp_path / "nodes.txt").read_text()
        assert "evicted backend-" in (tmp_path / "drain.txt").read_text()


@pytest.mark.parametrize(
    "name",
    [
        "postgres-claim-over-quota",
        "backend-policy-partitioned",
        "backend-bad-rollout",
        "node-not-ready",
    ],
)
def test_a_sabotaged_kubernetes_remediation_breaches(
    k8s: KubernetesLab, name: str, tmp_path: Path
) -> None:
    run_sabotaged(k8s, CATALOG[name], STRICT, tmp_path)


def test_a_claim_left_pending_breaches_the_recovery_budget(
    k8s: KubernetesLab, tmp_path: Path
) -> None:
    breach = run_sabotaged(k8s, CATALOG["postgres-claim-pending"], STRICT, tmp_path)
    assert "operational-runbooks.md:" in str(breach)  # the revert bound the claim again


@pytest.mark.parametrize(
    ("name", "service"), [("backend-killed", "backend"), ("postgres-killed", "postgres")]
)
def test_a_harmful_remediation_of_a_self_healing_fault_breaches(
    k8s: KubernetesLab, name: str, service: str, tmp_path: Path
) -> None:
    """The ReplicaSet or StatefulSet replaces a killed pod whatever the runbook does, so
    removing the remediation proves nothing: a wrong one (scale to 0) must breach."""
    run_harmful(k8s, CATALOG[name], STRICT, tmp_path, service=service)

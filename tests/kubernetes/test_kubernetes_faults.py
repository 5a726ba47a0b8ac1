"""Kubernetes faults against the real control plane: injected, proven in effect, reverted (or
healed by Kubernetes itself), the stack ready again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drillbook.environments.kubernetes import KubernetesLab
from drillbook.faults.kubernetes import ClaimPending, PodKill

pytestmark = pytest.mark.kubernetes


@pytest.fixture(scope="module")
def k8s_lab(control_plane: Path) -> Iterator[KubernetesLab]:
    lab = KubernetesLab(control_plane)
    lab.start(timeout_s=120)
    try:
        yield lab
    finally:
        lab.stop()


def test_pod_kill_through_chaostoolkit_kubernetes_and_the_replicaset_heals(
    k8s_lab: KubernetesLab, api: Any
) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    before = {
        p.metadata.name
        for p in core.list_namespaced_pod("trading-bot", label_selector="app=backend").items
    }
    fault = PodKill("backend", qty=2)
    fault.inject(k8s_lab)
    assert len(fault._killed) == 2
    assert set(fault._killed) <= before
    # the ReplicaSet replaces them: ready again with new names, within seconds on kwok
    k8s_lab.wait_ready(60)
    after = {
        p.metadata.name
        for p in core.list_namespaced_pod("trading-bot", label_selector="app=backend").items
    }
    assert len(after) == 3
    assert not set(fault._killed) & after
    fault.revert(k8s_lab)  # nothing to undo, and safe to call
    assert not fault.verify_active(k8s_lab).ok


def test_claim_pending_on_a_missing_class_and_revert_binds_it_again(
    k8s_lab: KubernetesLab, api: Any
) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    fault = ClaimPending()
    fault.inject(k8s_lab)
    try:
        deadline = time.monotonic() + 30
        while not (check := fault.verify_active(k8s_lab)).ok:
            assert time.monotonic() < deadline, check.detail
            time.sleep(0.5)
        assert "class fast-ssd" in check.detail
        rows = {r.service: r for r in k8s_lab.status()}
        assert not rows["postgres"].healthy
        events = core.list_namespaced_event(
            "trading-bot", field_selector="involvedObject.name=postgres-pvc"
        ).items
        assert any("fast-ssd" in (e.message or "") for e in events)  # Kubernetes says why
    finally:
        fault.revert(k8s_lab)
    fault.revert(k8s_lab)  # idempotent
    pvc = core.read_namespaced_persistent_volume_claim("postgres-pvc", "trading-bot")
    assert pvc.status.phase == "Bound"
    assert pvc.spec.storage_class_name == "standard"
    assert all(r.healthy for r in k8s_lab.status())


def test_pod_kill_qty_is_bounded() -> None:
    with pytest.raises(ValueError, match="qty=0: expected 1 to 10"):
        PodKill("backend", qty=0)

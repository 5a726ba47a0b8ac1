"""Kubernetes faults against the real control plane: injected, proven in effect, reverted (or
healed by Kubernetes itself), the stack ready again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drillbook.environments.kubernetes import KubernetesLab, KubernetesPlatform
from drillbook.errors import ConfigError
from drillbook.faults.kubernetes import (
    BadRollout,
    ClaimPending,
    NodeNotReady,
    PodKill,
    PolicyPartition,
)
from drillbook.waiting import Check

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

    # the ReplicaSet replaces them: ready again with new names, within seconds on kwok. The
    # Deployment's status lags the kill (it still says 3/3 ready for a moment), so the wait is
    # on the pods themselves, not on wait_ready.
    def replaced() -> Check:
        pods = core.list_namespaced_pod("trading-bot", label_selector="app=backend").items
        live = [p for p in pods if p.metadata.deletion_timestamp is None]
        names = {p.metadata.name for p in live}
        ready = [
            p
            for p in live
            if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or ())
        ]
        stale = names & set(fault._killed)
        detail = f"{len(ready)}/{len(live)} ready, killed still there: {sorted(stale)}"
        return Check(len(live) == 3 and len(ready) == 3 and not stale, detail)

    k8s_lab.wait("3 new backend pods ready", replaced, 60)
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


def test_claim_refused_by_a_storage_quota_and_revert_recreates_it(
    k8s_lab: KubernetesLab, api: Any
) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    fault = ClaimPending(cause="quota")
    fault.inject(k8s_lab)
    try:
        check = _until(lambda: fault.verify_active(k8s_lab))
        assert "no claim postgres-pvc (" in check.detail
        assert "exceeded quota" in check.detail or "quota" in check.detail
        assert "drillbook-storage-quota" in {
            q.metadata.name for q in core.list_namespaced_resource_quota("trading-bot").items
        }
    finally:
        fault.revert(k8s_lab)
    fault.revert(k8s_lab)
    assert not core.list_namespaced_resource_quota("trading-bot").items
    pvc = core.read_namespaced_persistent_volume_claim("postgres-pvc", "trading-bot")
    assert pvc.status.phase == "Bound"
    assert all(r.healthy for r in k8s_lab.status())


def test_claim_pending_names_a_bad_cause() -> None:
    with pytest.raises(ValueError, match="cause='full': expected missing-class or quota"):
        ClaimPending(cause="full")


def _until(check: Any, timeout_s: float = 40) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()).ok:
        assert time.monotonic() < deadline, result.detail
        time.sleep(0.5)
    return result


def test_policy_partition_through_chaostoolkit_kubernetes_and_revert(
    k8s_lab: KubernetesLab, api: Any
) -> None:
    from kubernetes import client

    net = client.NetworkingV1Api(api)
    assert k8s_lab.reachable("backend", "postgres", 5432)[0]
    fault = PolicyPartition()
    fault.inject(k8s_lab)
    try:
        names = {p.metadata.name for p in net.list_namespaced_network_policy("trading-bot").items}
        assert "chaostoolkit-deny-all-egress" in names
        assert "backend-egress" not in names
        check = fault.verify_active(k8s_lab)
        assert check.ok, check.detail
        assert "postgres:5432 egress denied: selected by chaostoolkit-deny-all-egress" in (
            check.detail
        )
    finally:
        fault.revert(k8s_lab)
    fault.revert(k8s_lab)  # idempotent
    names = {p.metadata.name for p in net.list_namespaced_network_policy("trading-bot").items}
    assert "backend-egress" in names
    assert "chaostoolkit-deny-all-egress" not in names
    assert not fault.verify_active(k8s_lab).ok


def test_node_not_ready_through_the_kwok_stage_and_revert(k8s_lab: KubernetesLab, api: Any) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api)
    fault = NodeNotReady()
    fault.inject(k8s_lab)
    try:
        check = _until(lambda: fault.verify_active(k8s_lab))
        assert f"{fault.node} Ready=False" in check.detail
        assert "backend-" in check.detail

        def tainted() -> Any:
            taints = core.read_node(fault.node).spec.taints or []
            return Check(any(t.key == "node.kubernetes.io/not-ready" for t in taints), f"{taints}")

        _until(tainted, 20)  # the node lifecycle controller saw it
        postgres_nodes = {
            p.spec.node_name
            for p in core.list_namespaced_pod("trading-bot", label_selector="app=postgres").items
        }
        assert fault.node not in postgres_nodes  # the single replica was spared
    finally:
        fault.revert(k8s_lab)
    fault.revert(k8s_lab)
    node = core.read_node(fault.node)
    assert next(c.status for c in node.status.conditions if c.type == "Ready") == "True"
    assert not node.spec.unschedulable
    assert all(r.healthy for r in k8s_lab.status())


def test_bad_rollout_crash_loops_and_revert_restores_the_template(
    k8s_lab: KubernetesLab, api: Any
) -> None:
    from kubernetes import client

    apps = client.AppsV1Api(api)
    before = apps.read_namespaced_deployment("backend", "trading-bot").spec.template
    fault = BadRollout()
    fault.inject(k8s_lab)
    try:
        check = _until(lambda: fault.verify_active(k8s_lab))
        assert "CrashLoopBackOff" in check.detail
    finally:
        fault.revert(k8s_lab)
    fault.revert(k8s_lab)
    after = apps.read_namespaced_deployment("backend", "trading-bot").spec.template
    assert after.spec.containers[0].command == before.spec.containers[0].command
    assert after.metadata.labels == before.metadata.labels
    assert all(r.healthy for r in k8s_lab.status())


def test_platform_verbs_rollout_undo_drain_job_from_cronjob_apply(
    k8s_lab: KubernetesLab, api: Any, tmp_path: Path
) -> None:
    from kubernetes import client

    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    platform = KubernetesPlatform(k8s_lab, evidence_dir=tmp_path)

    # set env makes a revision; rollout undo brings the one before back
    platform.set_env("backend", {"API_RATE_LIMIT_DELAY": "1000"})
    history = platform.rollout_history("backend")
    assert len(history) >= 2
    rolled_back_to = platform.rollout_undo("backend")
    assert rolled_back_to == history[-2][0]
    env = apps.read_namespaced_deployment("backend", "trading-bot").spec.template.spec
    values = {e.name: e.value for e in env.containers[0].env}
    assert values["API_RATE_LIMIT_DELAY"] == "100"
    # set env K- (None) unsets for real, the other entries kept in their order
    names = [e.name for e in env.containers[0].env]
    platform.set_env("backend", {"DRILLBOOK_PROBE": "1"})
    platform.set_env("backend", {"DRILLBOOK_PROBE": None})
    spec = apps.read_namespaced_deployment("backend", "trading-bot").spec.template.spec
    assert [e.name for e in spec.containers[0].env] == names

    # drain: the node ends with no pod of the lab, the controllers start them elsewhere
    node = platform.node_of("backend")[0]
    evicted = platform.drain(node)
    assert evicted
    try:
        # the evicted pods go first (the Deployments' status lags the evictions), then every
        # workload is ready again elsewhere
        def drained() -> Check:
            left = core.list_namespaced_pod("trading-bot", field_selector=f"spec.nodeName={node}")
            return Check(not left.items, f"on {node}: {[p.metadata.name for p in left.items]}")

        k8s_lab.wait(f"no lab pod left on {node}", drained, 60)
        k8s_lab.wait_ready(60)
        left = core.list_namespaced_pod("trading-bot", field_selector=f"spec.nodeName={node}")
        assert not left.items
        assert core.read_node(node).spec.unschedulable
    finally:
        platform.cordon(node, on=False)
    assert not core.read_node(node).spec.unschedulable

    # kubectl create job --from=cronjob/postgres-backup: owned by the cronjob, completes
    name = platform.create_job_from_cronjob("postgres-backup", "emergency-backup-test")
    job = client.BatchV1Api(api).read_namespaced_job(name, "trading-bot")
    assert job.metadata.owner_references[0].kind == "CronJob"
    assert job.metadata.annotations["cronjob.kubernetes.io/instantiate"] == "manual"

    # kubectl apply -f k8s/network-policies.yaml
    assert "NetworkPolicy/backend-egress" in platform.apply_manifest("network-policies.yaml")
    with pytest.raises(ConfigError, match=r"no manifest 'nope\.yaml'"):
        platform.apply_manifest("nope.yaml")

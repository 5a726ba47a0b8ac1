"""Drills on the Kubernetes tier: the runbook's kubectl steps through the API of a lab context.

Detection comes from the API (a workload with fewer ready replicas than it wants, a claim
Pending); budgets from the runbook as on the Docker tier. The nodes of the local control plane
are simulated, so these drills exercise what Kubernetes itself does (scheduling, controllers,
rollouts, volume binding), not the processes in the containers.
"""

from __future__ import annotations

from typing import Any

from drillbook.drills._budgets import budgets_for
from drillbook.drills._model import Drill, Step
from drillbook.environments.kubernetes import KubernetesPlatform, node_ready
from drillbook.faults.kubernetes import (
    BadRollout,
    ClaimPending,
    NodeNotReady,
    PodKill,
    PolicyPartition,
)
from drillbook.probes.kubernetes import OnReadyNodes, PolicyAllows, RolloutComplete, WorkloadReady
from drillbook.runbook import Runbook

__all__ = [
    "OnReadyNodes",
    "PolicyAllows",
    "RolloutComplete",
    "WorkloadReady",
    "kubernetes_drills",
]


def _network_policies(platform: KubernetesPlatform) -> None:
    """``kubectl get networkpolicy -n trading-bot``: each policy, whom it selects, its types."""
    from kubernetes import client

    lab = platform.lab
    net: Any = client.NetworkingV1Api(lab.api)
    lines = [
        f"{p.metadata.name}\tpodSelector={p.spec.pod_selector.match_labels or {}}\t"
        f"types={p.spec.policy_types}"
        for p in net.list_namespaced_network_policy(lab.namespace).items
    ]
    platform.save_evidence("networkpolicies.txt", "\n".join(lines) + "\n")


def _rollout_history(platform: KubernetesPlatform) -> None:
    """``kubectl rollout history deployment/backend``."""
    history = platform.rollout_history("backend")
    text = "\n".join(f"{rev}\t{rs}" for rev, rs in history)
    platform.save_evidence("rollout-history.txt", text + "\n")


def _nodes(platform: KubernetesPlatform) -> None:
    """``kubectl get nodes``; ``kubectl describe nodes | grep -A 5 Conditions`` (Ready, and
    the taints the node lifecycle controller put on)."""
    from kubernetes import client

    core: Any = client.CoreV1Api(platform.lab.api)
    lines = []
    for n in core.list_node().items:
        ready = next((c for c in n.status.conditions or [] if c.type == "Ready"), None)
        taints = [f"{t.key}:{t.effect}" for t in n.spec.taints or []]
        lines.append(
            f"{n.metadata.name}\tReady={ready.status if ready else '?'}"
            f"\t{ready.reason if ready else ''}\ttaints={taints}"
        )
    platform.save_evidence("nodes.txt", "\n".join(lines) + "\n")


def _drain_not_ready(platform: KubernetesPlatform) -> None:
    """``kubectl drain <node-name> --ignore-daemonsets --delete-emptydir-data`` for each node
    that is not Ready: its pods evicted, the controllers start them on healthy nodes. On real
    nodes a NotReady node's kubelet does not confirm the deletions, so its pods stay
    Terminating (kubectl drain would wait for them forever; the runbook does not say
    ``--force``): the drain does not wait for them, the replacements are what count."""
    from kubernetes import client

    core: Any = client.CoreV1Api(platform.lab.api)
    real = platform.real_nodes()
    drained = []
    for n in core.list_node().items:
        if node_ready(n) != "True":
            evicted = platform.drain(n.metadata.name, wait=not real)
            drained.append(f"{n.metadata.name}: evicted {', '.join(evicted) or 'nothing'}")
            if real:
                drained.append(
                    f"{n.metadata.name}: its kubelet does not answer; the evicted pods stay "
                    "Terminating there until it does (kubectl drain would wait; not --force)"
                )
    platform.save_evidence("drain.txt", "\n".join(drained or ["no node NotReady"]) + "\n")


def _backend_health(platform: KubernetesPlatform) -> None:
    """``kubectl exec -it deployment/backend -n trading-bot -- curl -f
    http://localhost:8080/health``: in a ready backend pod, for real (recorded as skipped on
    simulated nodes)."""
    result = platform.exec("backend", ["curl", "-sf", "-m", "5", "http://localhost:8080/health"])
    platform.save_evidence("backend-health.json", result.output)


def _apply_policies(platform: KubernetesPlatform) -> None:
    applied = platform.apply_manifest("network-policies.yaml")
    platform.save_evidence("apply-network-policies.txt", "\n".join(applied) + "\n")


def _rollout_undo(platform: KubernetesPlatform) -> None:
    platform.rollout_undo("backend")


def _rollout_status(platform: KubernetesPlatform) -> None:
    platform.wait_rollout("backend")


def _describe_quota(platform: KubernetesPlatform) -> None:
    """``kubectl describe resourcequota -n trading-bot`` and the StatefulSet's pod events
    (what says why the pod waits): not a runbook step, the investigation its gap needs."""
    from kubernetes import client

    lab = platform.lab
    core: Any = client.CoreV1Api(lab.api)
    lines = [
        f"resourcequota {q.metadata.name}\thard={dict(q.spec.hard or {})}"
        f"\tused={dict((q.status.used if q.status else None) or {})}"
        for q in core.list_namespaced_resource_quota(lab.namespace).items
    ]
    events = core.list_namespaced_event(
        lab.namespace, field_selector="involvedObject.kind=Pod"
    ).items
    lines += [
        f"event {e.involved_object.name}\t{e.reason}\t{e.message}"
        for e in events
        if (e.involved_object.name or "").startswith("postgres")
    ]
    platform.save_evidence("quota-describe.txt", "\n".join(lines) + "\n")


def _describe_claim(platform: KubernetesPlatform) -> None:
    """``kubectl get pvc``, ``describe pvc postgres-pvc`` (its events), ``get storageclass``."""
    from kubernetes import client

    lab = platform.lab
    core: Any = client.CoreV1Api(lab.api)
    storage: Any = client.StorageV1Api(lab.api)
    lines = [
        f"pvc {p.metadata.name}\t{p.status.phase}\tclass={p.spec.storage_class_name}"
        for p in core.list_namespaced_persistent_volume_claim(lab.namespace).items
    ]
    events = core.list_namespaced_event(
        lab.namespace, field_selector="involvedObject.kind=PersistentVolumeClaim"
    ).items
    lines += [f"event {e.involved_object.name}\t{e.reason}\t{e.message}" for e in events]
    lines += [
        f"storageclass {c.metadata.name}\t{c.provisioner}"
        for c in storage.list_storage_class().items
    ]
    platform.save_evidence("pvc-describe.txt", "\n".join(lines) + "\n")


def kubernetes_drills(runbook: Runbook) -> list[Drill]:
    """The Kubernetes tier's drills with budgets from ``runbook``."""
    tbd = budgets_for(runbook, "TradingBotDown")
    dbd = budgets_for(runbook, "DatabaseDown")
    claim = ClaimPending()
    fault_of: Any = PodKill("backend", qty=3)  # the Fault protocol is typed for the Docker lab
    claim_fault: Any = claim
    quota = ClaimPending(cause="quota")
    quota_fault: Any = quota
    partition: Any = PolicyPartition()
    rollout: Any = BadRollout()
    node: Any = NodeNotReady()
    reachable: Any = (
        *(PolicyAllows("backend", dst, port) for dst, port in PolicyPartition().reaches),
        WorkloadReady("backend"),
    )
    return [
        Drill(
            "backend-pods-killed",
            "TradingBotDown",
            fault_of,
            (WorkloadReady("backend"),),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl rollout restart deployment/backend",
                    lambda p: p.restart("backend"),
                    "TradingBotDown resolution 3 (If Application Error)",
                ),
            ),
            tbd,
            (),
            "every backend pod killed at once (chaostoolkit-kubernetes terminate_pods); the "
            "ReplicaSet replaces them, the runbook's rollout restart follows",
        ),
        Drill(
            "postgres-claim-pending",
            "DatabaseDown",
            claim_fault,
            (WorkloadReady("postgres"),),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl get pvc; kubectl describe pvc postgres-pvc; kubectl get storageclass",
                    _describe_claim,  # type: ignore[arg-type]
                    "DatabaseDown resolution 2 (If Storage Issues: Check PVC status)",
                ),
                Step(
                    "recreate postgres-pvc on an existing class (standard); the pod follows",
                    lambda p: claim.revert(p.lab),  # type: ignore[arg-type]
                    "DatabaseDown resolution 2 (If PVC is pending, check storage class)",
                ),
            ),
            dbd,
            (),
            "postgres-pvc recreated on a StorageClass that does not exist: Pending, and so is "
            "postgres; the claim put back on the cluster's class",
        ),
        Drill(
            "postgres-claim-over-quota",
            "DatabaseDown",
            quota_fault,
            (WorkloadReady("postgres"),),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl get pvc; kubectl describe pvc postgres-pvc; kubectl get storageclass",
                    _describe_claim,  # type: ignore[arg-type]
                    "DatabaseDown resolution 2 (If Storage Issues: Check PVC status)",
                ),
                Step(
                    "kubectl describe resourcequota -n trading-bot (not in the runbook)",
                    _describe_quota,  # type: ignore[arg-type]
                    "a gap: the runbook's storage steps stop at the storage class",
                ),
                Step(
                    "raise the quota; recreate postgres-pvc (not in the runbook)",
                    lambda p: quota.revert(p.lab),  # type: ignore[arg-type]
                    "a gap: the runbook's storage steps stop at the storage class",
                ),
            ),
            dbd,
            (),
            "a storage ResourceQuota below postgres-pvc's request: the claim is refused, "
            "postgres waits Pending. The runbook's steps (check PVC, check storage class) find "
            "no claim and no class problem: the quota steps are drillbook's, a runbook gap",
        ),
        Drill(
            "backend-policy-partitioned",
            "ExchangeConnectionLost",
            partition,
            reachable,
            (
                Step(
                    "kubectl get networkpolicy -n trading-bot",
                    _network_policies,  # type: ignore[arg-type]
                    "ExchangeConnectionLost investigation 4 (Check network policies)",
                ),
                Step(
                    "kubectl apply -f k8s/network-policies.yaml",
                    _apply_policies,  # type: ignore[arg-type]
                    "ExchangeConnectionLost resolution 3 (If Network Issues)",
                ),
                Step(
                    "kubectl delete pod -l app=backend -n trading-bot",
                    lambda p: p.delete_pod("backend"),
                    "ExchangeConnectionLost resolution 3 (Restart networking components)",
                ),
            ),
            budgets_for(runbook, "ExchangeConnectionLost"),
            (),
            "chaostoolkit-kubernetes' deny_all_egress on the backend with backend-egress "
            "deleted (a deny alone is additive and cuts nothing); the runbook re-applies "
            "k8s/network-policies.yaml. Judged by the policies in the API, and on real nodes "
            "by real TCP connects from a backend pod (kwok nodes move no packets)",
        ),
        Drill(
            "backend-bad-rollout",
            "TradingBotDown",
            rollout,
            (WorkloadReady("backend"), RolloutComplete("backend")),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl rollout history deployment/backend -n trading-bot",
                    _rollout_history,  # type: ignore[arg-type]
                    "Rolling Update Recovery 1 (Check rollout history)",
                ),
                Step(
                    "kubectl rollout undo deployment/backend -n trading-bot",
                    _rollout_undo,  # type: ignore[arg-type]
                    "Rolling Update Recovery 2 (Rollback to previous version)",
                ),
                Step(
                    "kubectl rollout status deployment/backend -n trading-bot",
                    _rollout_status,  # type: ignore[arg-type]
                    "Rolling Update Recovery 3 (Monitor rollback)",
                ),
            ),
            tbd,
            (),
            "a release whose container exits at start: new pods in CrashLoopBackOff, one old "
            "replica taken by maxUnavailable; rolled back with rollout undo. Not done: step 4's "
            "exec curl (needs a real node)",
        ),
        Drill(
            "node-not-ready",
            "TradingBotDown",
            node,
            (OnReadyNodes("backend"), WorkloadReady("backend")),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl get nodes; kubectl describe nodes | grep -A 5 Conditions",
                    _nodes,  # type: ignore[arg-type]
                    "Network Partition Recovery, Detection 1-2 (Identify partitioned nodes)",
                ),
                Step(
                    "kubectl drain <node-name> --ignore-daemonsets --delete-emptydir-data",
                    _drain_not_ready,  # type: ignore[arg-type]
                    "Network Partition Recovery, Recovery 1-2 (Drain, reschedule)",
                ),
                Step(
                    "kubectl exec deployment/backend -n trading-bot -- curl -f "
                    "http://localhost:8080/health",
                    _backend_health,  # type: ignore[arg-type]
                    "Network Partition Recovery, Recovery 3 (Verify service restoration)",
                ),
            ),
            tbd,
            (),
            "a node running a backend replica reports NotReady (KWOK's node-not-ready stage; on "
            "real nodes its kubelet frozen); drained, its pods start on healthy nodes; the "
            "backend's health checked from inside (skipped on simulated nodes)",
        ),
    ]

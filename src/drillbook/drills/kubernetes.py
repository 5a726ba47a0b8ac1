"""Drills on the Kubernetes tier: the runbook's kubectl steps through the API of a lab context.

The portable drills (``drills/portable.py``: pod kills, a crash loop, the exchange drills,
HighRiskExposure) as Kubernetes runs them, and the drills only Kubernetes has: claims Pending,
a NetworkPolicy partition, a bad rollout, a node NotReady. Detection comes from the API (a
workload with fewer ready replicas than it wants, a claim Pending) and, on real nodes, from
the cluster's own alert pipeline; budgets from the runbook as on the Docker tier. On simulated
(kwok) nodes the steps that need a process are recorded as skipped, never faked.
"""

from __future__ import annotations

from typing import Any

from drillbook.drills._budgets import budgets_for
from drillbook.drills._invariants import INTEGRITY, LEDGER
from drillbook.drills._model import Drill, Step
from drillbook.drills.portable import portable_drills
from drillbook.environments.kubernetes import KubernetesLab, KubernetesPlatform, node_ready
from drillbook.errors import LabError
from drillbook.faults.kubernetes import (
    BadRollout,
    ClaimPending,
    NodeNotReady,
    PolicyPartition,
)
from drillbook.probes import Probe
from drillbook.probes.kubernetes import (
    OnReadyNodes,
    PolicyAllows,
    RolloutComplete,
    WorkloadReady,
)
from drillbook.runbook import Runbook
from drillbook.waiting import Check

__all__ = [
    "REAL_NODES_ONLY",
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


def _spread_backend(platform: KubernetesPlatform) -> None:
    """Untimed setup of node-not-ready: a backend replica on a node without postgres (the
    drill's starting condition); when every replica sits beside postgres (an earlier drain
    moved them), ``kubectl rollout restart`` lets the scheduler spread them again."""
    backend, postgres = set(platform.node_of("backend")), set(platform.node_of("postgres"))
    if backend - postgres:
        return
    platform.restart("backend")
    platform.wait_rollout("backend")


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


#: drills whose fault or probes need processes (the fake exchange's admin API, the backend's
#: own /health): on simulated (kwok) nodes ``drillbook run`` leaves them out, saying so
REAL_NODES_ONLY = frozenset(
    {
        "exchange-rate-limited",
        "exchanges-lost",
        "backend-crash-loop",
        "high-risk-exposure",
        "ledger-data-loss",
    }
)


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


#: the row the claim drills write before the fault: gone afterwards means the data was lost
CLAIM_MARKER = "postgres-claim"


def _backup_before_the_claim(platform: KubernetesPlatform) -> None:
    """Untimed setup (real nodes): a marker row, then a verified backup to restore from (the
    CronJob's job, made now as the runbook's emergency backup: ``kubectl create job
    --from=cronjob/postgres-backup``). A recreated claim is a new, empty volume."""
    if not platform.runs_processes():
        return
    platform.sql(
        "CREATE TABLE IF NOT EXISTS drillbook_marker (drill text PRIMARY KEY, "
        "written timestamptz NOT NULL DEFAULT now())"
    )
    platform.sql(
        "INSERT INTO drillbook_marker (drill) VALUES (%s) ON CONFLICT DO NOTHING", (CLAIM_MARKER,)
    )
    platform.create_backup("pre-claim")


def _stop_writes(platform: KubernetesPlatform) -> None:
    """``kubectl scale deployment backend --replicas=0`` before the claim is recreated: on the
    new, empty volume a running bot would trade on an empty ledger (found on real nodes: it
    opened a second position for a symbol the restored backup already held)."""
    if platform.runs_processes():
        platform.remember("backend")
        platform.scale("backend", 0)


def _wait_database(platform: KubernetesPlatform) -> None:
    """Until ``trading_bot`` answers three times in a row: a new volume's PostgreSQL is Ready
    by its probe while its first start still initialises (``database "trading_bot" does not
    exist``, then ``the database system is shutting down`` as the init server restarts)."""
    import time

    platform.wait_ready("postgres", 300)
    streak: list[float] = []

    def answers() -> Check:
        try:
            platform.sql("SELECT 1")
        except LabError as exc:
            streak.clear()
            return Check(False, str(exc)[-200:])
        streak.append(time.monotonic())
        return Check(len(streak) >= 3, f"{len(streak)} answer(s) in a row")

    platform.lab.wait("the trading_bot database to answer", answers, 300, poll_s=1.0)


def _data_lost(platform: KubernetesPlatform) -> bool:
    _wait_database(platform)
    found = platform.sql("SELECT to_regclass('public.drillbook_marker') IS NOT NULL")
    if str(found[0][0]).lower() not in ("t", "true"):
        return True
    return not platform.sql("SELECT drill FROM drillbook_marker WHERE drill = %s", (CLAIM_MARKER,))


def _restore_if_lost(platform: KubernetesPlatform) -> None:
    """DatabaseDown resolution 4 (If Complete Failure: restore from backup): the claim
    recreated is a new volume, so PostgreSQL started empty (the marker row is gone). With
    writes stopped, the newest verified backup restored with restore.sh in backup-pod and the
    trades made after it replayed from the exchange's fills. Found on real nodes: without it
    the runbook's "recreate the claim" loses the database, and every later ledger check
    missed its fills."""
    from drillbook.drills._data_loss import newest_verified_backup
    from drillbook.faults.database import replay_exchange_fills

    if not _data_lost(platform):
        platform.save_evidence("data-check.txt", "data survived on the claim\n")
        return
    backup = newest_verified_backup(platform)
    out = platform.restore_backup(backup)
    if "data_integrity_check(): empty" not in out:
        raise LabError(f"the restored backup is not sound: {out.strip()[-300:]}")
    replayed = replay_exchange_fills(platform.lab)
    platform.save_evidence(
        "data-check.txt",
        f"data lost with the volume: restored {backup}; replayed {replayed} fill(s)\n",
    )


def _resume_writes(platform: KubernetesPlatform) -> None:
    """``kubectl scale deployment backend --replicas=<before>``."""
    platform.restore("backend")


def _restore_if_lost_after_revert(platform: KubernetesPlatform) -> None:
    """Teardown: the same restore when the drill did not get to it (a sabotaged or failed run
    still recreates the claim when it reverts), writes stopped first; the backend back."""
    if not platform.runs_processes():
        return
    try:
        if _data_lost(platform):
            platform.remember("backend")  # nothing remembered when the steps did not run
            platform.scale("backend", 0)
            _restore_if_lost(platform)
    finally:
        platform.restore("backend")
    platform.sql("DROP TABLE IF EXISTS drillbook_marker")


#: the claim drills' shared steps: writes stopped before the claim's new, empty volume, the
#: data restored and replayed after it, writes resumed; a backup before, a restore after revert
STOP_WRITES = Step(
    "kubectl scale deployment backend --replicas=0 (stop writes: the claim's new volume will "
    "be empty)",
    _stop_writes,
    "Data Loss Recovery, Immediate Response 1 (Stop all write operations)",
)
RESTORE_AND_RESUME = (
    Step(
        "restore from backup if the data was lost: restore.sh --file <newest verified>; replay "
        "the trades after it",
        _restore_if_lost,
        "DatabaseDown resolution 4 (If Complete Failure: restore from backup)",
    ),
    Step("kubectl scale deployment backend --replicas=<before>", _resume_writes, ""),
)
CLAIM_BACKUP = Step("a marker row and a verified backup (untimed)", _backup_before_the_claim)
CLAIM_RESTORE_AFTER_REVERT = Step(
    "the data back if a failed run lost it (untimed)", _restore_if_lost_after_revert
)


def kubernetes_drills(runbook: Runbook) -> list[Drill]:
    """The Kubernetes tier's drills with budgets from ``runbook``."""
    tbd = budgets_for(runbook, "TradingBotDown")
    dbd = budgets_for(runbook, "DatabaseDown")
    claim = ClaimPending()
    quota = ClaimPending(cause="quota")
    reachable: tuple[Probe[KubernetesLab], ...] = (
        *(PolicyAllows("backend", dst, port) for dst, port in PolicyPartition().reaches),
        WorkloadReady("backend"),
    )
    shared = {d.name: d.on("kubernetes") for d in portable_drills(runbook)}
    return [
        *(
            shared[name]
            for name in (
                "exchange-rate-limited",
                "exchanges-lost",
                "high-risk-exposure",
                "backend-crash-loop",
                "postgres-killed",
                "backend-killed",
                "ledger-data-loss",
            )
        ),
        Drill(
            "postgres-claim-pending",
            "DatabaseDown",
            claim,
            (WorkloadReady("postgres"),),
            (
                Step(
                    "kubectl get pvc; kubectl describe pvc postgres-pvc; kubectl get storageclass",
                    _describe_claim,
                    "DatabaseDown resolution 2 (If Storage Issues: Check PVC status)",
                ),
                STOP_WRITES,
                Step(
                    "recreate postgres-pvc on an existing class (standard); the pod follows",
                    lambda p: claim.revert(p.lab),
                    "DatabaseDown resolution 2 (If PVC is pending, check storage class)",
                ),
                *RESTORE_AND_RESUME,
            ),
            dbd,
            (INTEGRITY, LEDGER),
            "postgres-pvc recreated on a StorageClass that does not exist: Pending, and so is "
            "postgres; the claim put back on the cluster's class, a new volume: the database "
            "restored from the newest verified backup and the trades after it replayed (on "
            "simulated nodes the restore is recorded as skipped)",
            setup=(CLAIM_BACKUP,),
            teardown=(CLAIM_RESTORE_AFTER_REVERT,),
        ),
        Drill(
            "postgres-claim-over-quota",
            "DatabaseDown",
            quota,
            (WorkloadReady("postgres"),),
            (
                Step(
                    "kubectl get pvc; kubectl describe pvc postgres-pvc; kubectl get storageclass",
                    _describe_claim,
                    "DatabaseDown resolution 2 (If Storage Issues: Check PVC status)",
                ),
                Step(
                    "kubectl describe resourcequota -n trading-bot (not in the runbook)",
                    _describe_quota,
                    "a gap: the runbook's storage steps stop at the storage class",
                ),
                STOP_WRITES,
                Step(
                    "raise the quota; recreate postgres-pvc (not in the runbook)",
                    lambda p: quota.revert(p.lab),
                    "a gap: the runbook's storage steps stop at the storage class",
                ),
                *RESTORE_AND_RESUME,
            ),
            dbd,
            (INTEGRITY, LEDGER),
            "a storage ResourceQuota below postgres-pvc's request: the claim is refused, "
            "postgres waits Pending. The runbook's steps (check PVC, check storage class) find "
            "no claim and no class problem: the quota steps are drillbook's, a runbook gap. "
            "The claim recreated is a new volume: the database restored and replayed",
            setup=(CLAIM_BACKUP,),
            teardown=(CLAIM_RESTORE_AFTER_REVERT,),
        ),
        Drill(
            "backend-policy-partitioned",
            "ExchangeConnectionLost",
            PolicyPartition(),
            reachable,
            (
                Step(
                    "kubectl get networkpolicy -n trading-bot",
                    _network_policies,
                    "ExchangeConnectionLost investigation 4 (Check network policies)",
                ),
                Step(
                    "kubectl apply -f k8s/network-policies.yaml",
                    _apply_policies,
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
            "by real TCP connects from a backend pod (kwok nodes move no packets). "
            "ExchangeConnectionLost does not fire: established connections outlive a new "
            "policy, so the backend keeps trading on its pooled ones",
            # measured on real nodes: the backend's pooled keep-alive connections to the
            # exchange are established flows, which a policy (iptables, conntrack) lets
            # through as every such CNI does: ExchangeConnectionLost stays quiet, only new
            # connections are cut (what PolicyAllows tries)
            alert_fires=False,
        ),
        Drill(
            "backend-bad-rollout",
            "TradingBotDown",
            BadRollout(),
            (WorkloadReady("backend"), RolloutComplete("backend")),
            (
                Step(
                    "kubectl rollout history deployment/backend -n trading-bot",
                    _rollout_history,
                    "Rolling Update Recovery 1 (Check rollout history)",
                ),
                Step(
                    "kubectl rollout undo deployment/backend -n trading-bot",
                    _rollout_undo,
                    "Rolling Update Recovery 2 (Rollback to previous version)",
                ),
                Step(
                    "kubectl rollout status deployment/backend -n trading-bot",
                    _rollout_status,
                    "Rolling Update Recovery 3 (Monitor rollback)",
                ),
            ),
            tbd,
            (),
            "a release whose container exits at start: new pods in CrashLoopBackOff, one old "
            "replica taken by maxUnavailable; rolled back with rollout undo. Not done: step 4's "
            "exec curl (needs a real node). TradingBotDown does not fire (two old replicas "
            "serve): the drill's probes detect it",
            alert_fires=False,
        ),
        Drill(
            "node-not-ready",
            "TradingBotDown",
            NodeNotReady(),
            (OnReadyNodes("backend"), WorkloadReady("backend")),
            (
                Step(
                    "kubectl get nodes; kubectl describe nodes | grep -A 5 Conditions",
                    _nodes,
                    "Network Partition Recovery, Detection 1-2 (Identify partitioned nodes)",
                ),
                Step(
                    "kubectl drain <node-name> --ignore-daemonsets --delete-emptydir-data",
                    _drain_not_ready,
                    "Network Partition Recovery, Recovery 1-2 (Drain, reschedule)",
                ),
                Step(
                    "kubectl exec deployment/backend -n trading-bot -- curl -f "
                    "http://localhost:8080/health",
                    _backend_health,
                    "Network Partition Recovery, Recovery 3 (Verify service restoration)",
                ),
            ),
            tbd,
            (),
            "a node running a backend replica reports NotReady (KWOK's node-not-ready stage; on "
            "real nodes its kubelet frozen); drained, its pods start on healthy nodes; the "
            "backend's health checked from inside (skipped on simulated nodes). "
            "TradingBotDown does not fire (the other replicas serve): the probes detect it",
            alert_fires=False,
            setup=(
                Step(
                    "a backend replica on a node without postgres (untimed)",
                    _spread_backend,
                ),
            ),
        ),
    ]

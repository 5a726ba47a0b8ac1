"""Drills on the Kubernetes tier: the runbook's kubectl steps through the API of a lab context.

Detection comes from the API (a workload with fewer ready replicas than it wants, a claim
Pending); budgets from the runbook as on the Docker tier. The nodes of the local control plane
are simulated, so these drills exercise what Kubernetes itself does (scheduling, controllers,
rollouts, volume binding), not the processes in the containers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drillbook.drills._budgets import budgets_for
from drillbook.drills._model import Drill, Step
from drillbook.environments.kubernetes import KubernetesLab, KubernetesPlatform
from drillbook.faults.kubernetes import ClaimPending, PodKill
from drillbook.runbook import Runbook
from drillbook.waiting import Check

__all__ = ["WorkloadReady", "kubernetes_drills"]


@dataclass(frozen=True)
class WorkloadReady:
    """The Deployment or StatefulSet ``app`` has every replica ready (what ``kubectl rollout
    status`` waits for)."""

    app: str

    @property
    def name(self) -> str:
        return f"{self.app}: every replica ready"

    def check(self, lab: KubernetesLab) -> Check:
        row = next((r for r in lab.status() if r.service == self.app), None)
        if row is None:
            return Check(False, f"no workload {self.app} in {lab.name}")
        return Check(row.healthy, row.detail)


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
    ]

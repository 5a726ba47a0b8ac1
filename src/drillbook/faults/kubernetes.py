"""Kubernetes faults, through the API of a lab context: a pod kill (Chaos Toolkit's
``chaosk8s.pod.actions.terminate_pods``) and a claim stuck Pending on a missing StorageClass.

Each has ``verify_active`` and an idempotent ``revert``, as the Docker faults do. They take a
``KubernetesLab``; its context is a lab context (checked when the lab was opened).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from drillbook.environments.kubernetes import KubernetesLab
from drillbook.errors import LabError
from drillbook.waiting import Check

__all__ = ["ClaimPending", "PodKill"]


@contextlib.contextmanager
def _chaos_env(lab: KubernetesLab) -> Iterator[dict[str, str]]:
    """chaostoolkit-kubernetes loads the default kubeconfig (``KUBECONFIG``, read by the
    kubernetes client when it is imported) with the context from its secrets: both pointed at
    the lab for the call, TLS verification on, and everything restored after."""
    from kubernetes.config import kube_config

    path = os.path.expanduser(lab.kubeconfig)
    before_env, before_default = (
        os.environ.get("KUBECONFIG"),
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION,
    )
    os.environ["KUBECONFIG"] = path
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = path
    try:
        yield {"KUBERNETES_CONTEXT": lab.context, "KUBERNETES_VERIFY_SSL": "true"}
    finally:
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = before_default
        if before_env is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = before_env


def _apis(lab: KubernetesLab) -> tuple[Any, Any]:
    from kubernetes import client

    return client.CoreV1Api(lab.api), client.AppsV1Api(lab.api)


@dataclass(frozen=True)
class PodKill:
    """``qty`` pods of ``app`` terminated at once (grace period 0) with chaostoolkit-kubernetes'
    ``terminate_pods``, the pod-kill of the runbook's TradingBotDown. In effect while the
    workload has fewer ready replicas than it wants. Nothing to revert: the pods are gone, and
    their replacements are the system's own (the ReplicaSet's), which is what a drill measures."""

    app: str = "backend"
    qty: int = 1
    _killed: list[str] = field(default_factory=list, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.qty <= 10:
            raise ValueError(f"PodKill qty={self.qty}: expected 1 to 10")

    @property
    def name(self) -> str:
        return f"kill {self.qty} pod(s) of app={self.app}"

    def inject(self, lab: KubernetesLab) -> None:
        from chaosk8s.pod.actions import terminate_pods

        core, _ = _apis(lab)
        before = {
            p.metadata.name
            for p in core.list_namespaced_pod(lab.namespace, label_selector=f"app={self.app}").items
        }
        if not before:
            raise LabError(f"no pod with app={self.app} in {lab.name} to kill")
        with _chaos_env(lab) as secrets:
            terminate_pods(
                label_selector=f"app={self.app}",
                ns=lab.namespace,
                qty=self.qty,
                grace_period=0,
                secrets=secrets,
            )
        after = {
            p.metadata.name
            for p in core.list_namespaced_pod(lab.namespace, label_selector=f"app={self.app}").items
            if p.metadata.deletion_timestamp is None
        }
        self._killed[:] = sorted(before - after)

    def verify_active(self, lab: KubernetesLab) -> Check:
        row = next((r for r in lab.status() if r.service == self.app), None)
        if row is None:
            return Check(False, f"no workload {self.app}")
        killed = f"killed {', '.join(self._killed) or 'none yet'}"
        return Check(bool(self._killed) and not row.healthy, f"{row.detail}; {killed}")

    def revert(self, lab: KubernetesLab) -> None:
        return None


@dataclass(frozen=True)
class ClaimPending:
    """The StatefulSet's claim recreated on a StorageClass that does not exist (a deleted or
    misspelled class): the claim stays Pending and so does the pod (the runbook's "If PVC is
    pending, check storage class"). Revert recreates the claim as the manifests declare it, the
    lab provides its volume, and the workload is scaled back."""

    workload: str = "postgres"
    claim: str = "postgres-pvc"
    missing_class: str = "fast-ssd"
    timeout_s: float = 60.0
    _saved: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.claim} on a missing StorageClass {self.missing_class!r} (Pending)"

    def _scale(self, lab: KubernetesLab, replicas: int) -> None:
        _, apps = _apis(lab)
        apps.patch_namespaced_stateful_set_scale(
            self.workload, lab.namespace, {"spec": {"replicas": replicas}}
        )
        if replicas == 0:
            self._until(lab, lambda: not self._pods(lab), f"the pods of {self.workload} to go")

    def _pods(self, lab: KubernetesLab) -> list[Any]:
        core, _ = _apis(lab)
        selector = f"app={self.workload}"
        return list(core.list_namespaced_pod(lab.namespace, label_selector=selector).items)

    def _until(self, lab: KubernetesLab, ok: Any, what: str) -> None:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if ok():
                return
            time.sleep(0.25)
        raise LabError(f"{lab.name}: timed out after {self.timeout_s:g}s waiting for {what}")

    def _replace_claim(self, lab: KubernetesLab, storage_class: str) -> None:
        from kubernetes.client.exceptions import ApiException

        core, _ = _apis(lab)
        with contextlib.suppress(ApiException):
            core.delete_namespaced_persistent_volume_claim(self.claim, lab.namespace)

        def gone() -> bool:
            try:
                core.read_namespaced_persistent_volume_claim(self.claim, lab.namespace)
            except ApiException as exc:
                return bool(exc.status == 404)
            return False

        self._until(lab, gone, f"claim {self.claim} to be deleted")
        volume = f"{lab.namespace}-{self.claim}"
        with contextlib.suppress(ApiException):
            core.delete_persistent_volume(volume)  # Retain: released, never bound again
        self._until(lab, lambda: _absent_volume(core, volume), f"volume {volume} to go")
        spec = self._saved["spec"]
        core.create_namespaced_persistent_volume_claim(
            lab.namespace,
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": self.claim, "labels": self._saved["labels"]},
                "spec": {
                    "accessModes": spec.access_modes,
                    "storageClassName": storage_class,
                    "resources": {"requests": dict(spec.resources.requests)},
                },
            },
        )

    def inject(self, lab: KubernetesLab) -> None:
        core, apps = _apis(lab)
        pvc = core.read_namespaced_persistent_volume_claim(self.claim, lab.namespace)
        sts = apps.read_namespaced_stateful_set(self.workload, lab.namespace)
        if "spec" not in self._saved:
            self._saved.update(
                spec=pvc.spec,
                labels=dict(pvc.metadata.labels or {}),
                storage_class=pvc.spec.storage_class_name,
                replicas=sts.spec.replicas,
            )
        self._scale(lab, 0)
        self._replace_claim(lab, self.missing_class)
        self._scale(lab, int(self._saved["replicas"]))

    def verify_active(self, lab: KubernetesLab) -> Check:
        core, _ = _apis(lab)
        pvc = core.read_namespaced_persistent_volume_claim(self.claim, lab.namespace)
        phases = [p.status.phase for p in self._pods(lab)]
        pending = pvc.status.phase == "Pending" and bool(phases) and set(phases) == {"Pending"}
        return Check(
            pending,
            f"claim {pvc.status.phase} (class {pvc.spec.storage_class_name}); pods {phases}",
        )

    def revert(self, lab: KubernetesLab) -> None:
        if "spec" not in self._saved:
            return
        core, _ = _apis(lab)
        pvc = core.read_namespaced_persistent_volume_claim(self.claim, lab.namespace)
        if pvc.spec.storage_class_name != self._saved["storage_class"]:
            self._scale(lab, 0)
            self._replace_claim(lab, str(self._saved["storage_class"]))
            lab.provide_volumes()
            self._scale(lab, int(self._saved["replicas"]))
        lab.wait_ready(self.timeout_s)
        self._saved.clear()


def _absent_volume(core: Any, name: str) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        core.read_persistent_volume(name)
    except ApiException as exc:
        return bool(exc.status == 404)
    return False

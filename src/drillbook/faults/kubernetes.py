"""Kubernetes faults, through the API of a lab context: a pod kill (Chaos Toolkit's
``chaosk8s.pod.actions.terminate_pods``), a claim stuck Pending on a missing StorageClass, a
partition made of NetworkPolicy (``chaosk8s.networking.actions.deny_all_egress``), a node that
reports NotReady (KWOK's node-not-ready stage) and a bad rollout whose pods crash-loop.

Each has ``verify_active`` and an idempotent ``revert``, as the Docker faults do. They take a
``KubernetesLab``; its context is a lab context (checked when the lab was opened).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from drillbook.environments.kubernetes import KubernetesLab, kubelet_signal, node_ready
from drillbook.errors import LabError
from drillbook.registry import Registry
from drillbook.waiting import Check

__all__ = [
    "KUBERNETES_FAULTS",
    "BadRollout",
    "ClaimPending",
    "MemoryLimit",
    "NodeNotReady",
    "PodKill",
    "PolicyPartition",
]


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


#: a StatefulSet's pod is killed with this grace, not 0: a grace of 0 deletes the pod object at
#: once, the StatefulSet starts its replacement on the same volume while the kubelet has not yet
#: stopped the old container, and for that moment two PostgreSQL servers share one data
#: directory (each in its own PID namespace, so the lock file does not stop the second). The
#: bot's pooled connections still reached the old one: measured on real nodes, two orders it
#: committed there were gone after the kill while their fills stood at the exchange. A crash
#: never runs two servers; a forced delete does (Kubernetes documents it: force deletion breaks
#: a StatefulSet's at-most-one guarantee).
_STATEFUL_GRACE_S = 1


@dataclass(frozen=True)
class PodKill:
    """``qty`` pods of ``app`` terminated at once (grace period 0; a StatefulSet's: 1 s, see
    ``_STATEFUL_GRACE_S``) with chaostoolkit-kubernetes' ``terminate_pods``, the pod-kill of
    the runbook's TradingBotDown. In effect while the workload has fewer ready replicas than it
    wants. Nothing to revert: the pods are gone, and
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
        selector = f"app={self.app}"
        before = {
            p.metadata.uid: p.metadata.name
            for p in core.list_namespaced_pod(lab.namespace, label_selector=selector).items
        }
        if not before:
            raise LabError(f"no pod with app={self.app} in {lab.name} to kill")
        kind = next((k for k, n, _ in lab.workloads() if n == self.app), "Deployment")
        with _chaos_env(lab) as secrets:
            terminate_pods(
                label_selector=selector,
                ns=lab.namespace,
                qty=self.qty,
                grace_period=_STATEFUL_GRACE_S if kind == "StatefulSet" else 0,
                secrets=secrets,
            )
        # by uid: a StatefulSet's replacement has the killed pod's name
        after = {
            p.metadata.uid
            for p in core.list_namespaced_pod(lab.namespace, label_selector=selector).items
            if p.metadata.deletion_timestamp is None
        }
        self._killed[:] = sorted(name for uid, name in before.items() if uid not in after)

    def verify_active(self, lab: KubernetesLab) -> Check:
        """Pods killed, and fewer of ``app``'s pods Ready than the workload wants: read from the
        pods (the workload's status lags a kill), or from its status."""
        row = next((r for r in lab.status() if r.service == self.app), None)
        if row is None:
            return Check(False, f"no workload {self.app}")
        core, _ = _apis(lab)
        pods = core.list_namespaced_pod(lab.namespace, label_selector=f"app={self.app}").items
        ready = sum(
            1
            for p in pods
            if p.metadata.deletion_timestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        )
        want = next((w.spec.replicas for _, n, w in lab.workloads() if n == self.app), None)
        short = want is not None and ready < want
        killed = f"killed {', '.join(self._killed) or 'none yet'}"
        return Check(
            bool(self._killed) and (short or not row.healthy),
            f"{row.detail}; {ready} pod(s) Ready; {killed}",
        )

    def revert(self, lab: KubernetesLab) -> None:
        return None


QUOTA = "drillbook-storage-quota"


@dataclass(frozen=True)
class ClaimPending:
    """The StatefulSet's storage made unavailable, so its pod stays Pending. ``cause``:

    - ``missing-class``: the claim recreated on a StorageClass that does not exist (a deleted
      or misspelled class): the claim stays Pending and so does the pod (the runbook's "If PVC
      is pending, check storage class").
    - ``quota``: a ResourceQuota on ``requests.storage`` below the claim's request, then the
      claim recreated: the API server refuses it (exceeded quota), the pod waits for a claim
      that does not exist. The runbook's storage steps do not cover this.

    Revert removes the quota, recreates the claim as the manifests declare it, the lab
    provides its volume, and the workload is scaled back."""

    workload: str = "postgres"
    claim: str = "postgres-pvc"
    missing_class: str = "fast-ssd"
    timeout_s: float = 60.0
    cause: str = "missing-class"
    _saved: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if self.cause not in ("missing-class", "quota"):
            raise ValueError(f"ClaimPending cause={self.cause!r}: expected missing-class or quota")

    @property
    def name(self) -> str:
        if self.cause == "quota":
            return f"{self.claim} refused by a storage ResourceQuota ({self.workload} Pending)"
        return f"{self.claim} on a missing StorageClass {self.missing_class!r} (Pending)"

    def _scale(self, lab: KubernetesLab, replicas: int) -> None:
        _, apps = _apis(lab)
        apps.patch_namespaced_stateful_set_scale(
            self.workload, lab.namespace, {"spec": {"replicas": replicas}}
        )
        if replicas == 0:

            def gone() -> Check:
                left = [p.metadata.name for p in self._pods(lab)]
                return Check(not left, f"still there: {', '.join(left)}")

            lab.wait(f"the pods of {self.workload} to go", gone, self.timeout_s)

    def _pods(self, lab: KubernetesLab) -> list[Any]:
        core, _ = _apis(lab)
        selector = f"app={self.workload}"
        return list(core.list_namespaced_pod(lab.namespace, label_selector=selector).items)

    def _replace_claim(self, lab: KubernetesLab, storage_class: str) -> None:
        self._remove_claim_and_volume(lab)
        self._create_claim(lab, storage_class)

    def _remove_claim_and_volume(self, lab: KubernetesLab) -> None:
        from kubernetes.client.exceptions import ApiException

        core, _ = _apis(lab)
        with contextlib.suppress(ApiException):
            core.delete_namespaced_persistent_volume_claim(self.claim, lab.namespace)

        def gone() -> Check:
            try:
                pvc = core.read_namespaced_persistent_volume_claim(self.claim, lab.namespace)
            except ApiException as exc:  # anything but 404: not known gone, look again
                return Check(exc.status == 404, f"reading it: {exc.status} {exc.reason}")
            return Check(False, f"still there ({pvc.status.phase})")

        lab.wait(f"claim {self.claim} to be deleted", gone, self.timeout_s)
        volume = f"{lab.namespace}-{self.claim}"
        with contextlib.suppress(ApiException):
            core.delete_persistent_volume(volume)  # Retain: released, never bound again
        lab.wait(f"volume {volume} to go", lambda: _absent_volume(core, volume), self.timeout_s)

    def _create_claim(self, lab: KubernetesLab, storage_class: str) -> None:
        core, _ = _apis(lab)
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
        if self.cause == "quota":
            self._over_quota(lab)
        else:
            self._replace_claim(lab, self.missing_class)
        self._scale(lab, int(self._saved["replicas"]))

    def _over_quota(self, lab: KubernetesLab) -> None:
        """A quota below the claim's request, then the claim recreated: refused."""
        from kubernetes.client.exceptions import ApiException

        core, _ = _apis(lab)
        core.create_namespaced_resource_quota(
            lab.namespace,
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": QUOTA},
                "spec": {"hard": {"requests.storage": "1Mi"}},
            },
        )
        self._remove_claim_and_volume(lab)
        try:
            self._create_claim(lab, str(self._saved["storage_class"]))
        except ApiException as exc:
            if exc.status != 403:
                raise
            self._saved["refused"] = _api_message(exc)
        else:
            raise LabError(
                f"{lab.name}: the claim was admitted despite ResourceQuota {QUOTA}",
                hint="is the ResourceQuota admission plugin enabled on this API server?",
            )

    def verify_active(self, lab: KubernetesLab) -> Check:
        from kubernetes.client.exceptions import ApiException

        core, _ = _apis(lab)
        phases = [p.status.phase for p in self._pods(lab)]
        pods_pending = bool(phases) and set(phases) == {"Pending"}
        try:
            pvc = core.read_namespaced_persistent_volume_claim(self.claim, lab.namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            refused = self._saved.get("refused", "")
            return Check(pods_pending, f"no claim {self.claim} ({refused}); pods {phases}")
        pending = pvc.status.phase == "Pending" and pods_pending
        return Check(
            pending,
            f"claim {pvc.status.phase} (class {pvc.spec.storage_class_name}); pods {phases}",
        )

    def revert(self, lab: KubernetesLab) -> None:
        from kubernetes.client.exceptions import ApiException

        if "spec" not in self._saved:
            return
        core, _ = _apis(lab)
        with contextlib.suppress(ApiException):  # 404: never made, or already raised/removed
            core.delete_namespaced_resource_quota(QUOTA, lab.namespace)
        try:
            pvc = core.read_namespaced_persistent_volume_claim(self.claim, lab.namespace)
            storage_class = pvc.spec.storage_class_name
        except ApiException as exc:
            if exc.status != 404:
                raise
            storage_class = None
        if storage_class != self._saved["storage_class"]:
            self._scale(lab, 0)
            if storage_class is None:  # the quota's refusal: recreate it, once admission lets it
                lab.wait(
                    f"claim {self.claim} admitted", lambda: self._try_create(lab), self.timeout_s
                )
            else:
                self._replace_claim(lab, str(self._saved["storage_class"]))
            lab.provide_volumes()
            self._scale(lab, int(self._saved["replicas"]))
        lab.wait_ready(self.timeout_s)
        self._saved.clear()

    def _try_create(self, lab: KubernetesLab) -> Check:
        from kubernetes.client.exceptions import ApiException

        try:
            self._create_claim(lab, str(self._saved["storage_class"]))
        except ApiException as exc:
            if exc.status == 403:  # the quota's removal not seen by admission yet
                return Check(False, f"refused: {_api_message(exc)}")
            raise
        return Check(True, "created")


def _api_message(exc: Exception) -> str:
    """The API server's own message of a refusal."""
    import json

    body = getattr(exc, "body", None)
    try:
        return str(json.loads(body)["message"]) if body else str(exc)
    except (ValueError, KeyError, TypeError):
        return str(exc)


def _absent_volume(core: Any, name: str) -> Check:
    from kubernetes.client.exceptions import ApiException

    try:
        pv = core.read_persistent_volume(name)
    except ApiException as exc:  # anything but 404: not known gone, look again
        return Check(exc.status == 404, f"reading it: {exc.status} {exc.reason}")
    return Check(False, f"still there ({pv.status.phase})")


@dataclass(frozen=True)
class PolicyPartition:
    """``app`` cut off from its dependencies by NetworkPolicy: chaostoolkit-kubernetes'
    ``deny_all_egress`` on ``app=<app>`` and the policy that allowed its egress
    (``allow_policy``) deleted, as a bad policy change does. NetworkPolicies are additive: a
    deny beside the stack's allow would cut nothing, so the allow goes too. In effect while the
    policies in the API deny ``app`` each of ``reaches`` (evaluated as a policy-enforcing CNI
    does: the local control plane's nodes move no packets). Revert removes the deny and puts
    the saved allow policy back if it is still missing."""

    app: str = "backend"
    allow_policy: str = "backend-egress"
    reaches: tuple[tuple[str, int], ...] = (("postgres", 5432), ("redis", 6379), ("rabbitmq", 5672))
    _saved: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.app} egress denied by NetworkPolicy ({self.allow_policy} removed)"

    def _net(self, lab: KubernetesLab) -> Any:
        from kubernetes import client

        return client.NetworkingV1Api(lab.api)

    def inject(self, lab: KubernetesLab) -> None:
        from chaosk8s.networking.actions import deny_all_egress
        from kubernetes.client.exceptions import ApiException

        net = self._net(lab)
        try:
            policy = net.read_namespaced_network_policy(self.allow_policy, lab.namespace)
        except ApiException as exc:
            raise LabError(
                f"{lab.name}: no NetworkPolicy {self.allow_policy!r} to remove ({exc.reason})",
                hint="`drillbook lab up --env kubernetes` applies k8s/network-policies.yaml",
            ) from exc
        body = lab.api.sanitize_for_serialization(policy)
        meta = body["metadata"]
        self._saved["policy"] = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {k: meta[k] for k in ("name", "labels", "annotations") if k in meta},
            "spec": body["spec"],
        }
        with _chaos_env(lab) as secrets:
            deny_all_egress(label_selectors={"app": self.app}, ns=lab.namespace, secrets=secrets)
        net.delete_namespaced_network_policy(self.allow_policy, lab.namespace)

    def verify_active(self, lab: KubernetesLab) -> Check:
        verdicts = [
            (f"{dst}:{port}", *lab.reachable(self.app, dst, port)) for dst, port in self.reaches
        ]
        cut = all(not ok for _, ok, _ in verdicts)
        return Check(cut, "; ".join(f"{where} {why}" for where, _, why in verdicts))

    def revert(self, lab: KubernetesLab) -> None:
        from kubernetes.client.exceptions import ApiException

        net = self._net(lab)
        with contextlib.suppress(ApiException):  # 404: not there (never made, or removed)
            net.delete_namespaced_network_policy("chaostoolkit-deny-all-egress", lab.namespace)
        saved = self._saved.get("policy")
        if saved is not None:
            try:
                net.create_namespaced_network_policy(lab.namespace, saved)
            except ApiException as exc:
                if exc.status != 409:  # 409: already back (the runbook's apply did it)
                    raise
        self._saved.clear()


@dataclass(frozen=True)
class NodeNotReady:
    """A node that runs ``app`` (and none of ``spare``, whose single replica could not move)
    reports NotReady: KWOK's node-not-ready stage, chosen by its label. The node lifecycle
    controller taints it (not-ready, NoSchedule and NoExecute); the pods there keep their last
    status, as with a real kubelet that reports NotReady, until the taint evicts them (300 s by
    default). In effect while the node is not Ready with a pod of ``app`` on it; the runbook's
    Network Partition Recovery drains it. Revert: the label removed (the node reports Ready
    again) and the node uncordoned.

    On real nodes the node's kubelet is frozen instead (SIGSTOP in its node container, as a
    kubelet cut off from the API server): no status reaches the API, the lifecycle controller
    marks the node NotReady after its grace period, and the containers there go on running
    unseen. Revert: SIGCONT; the kubelet reports again and finishes what was asked meanwhile."""

    app: str = "backend"
    spare: tuple[str, ...] = ("postgres",)
    timeout_s: float = 60.0
    _node: list[str] = field(default_factory=list, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        where = self._node[0] if self._node else f"a node running {self.app}"
        return f"{where} NotReady"

    @property
    def node(self) -> str:
        if not self._node:
            raise LabError("NodeNotReady: not injected, no node chosen")
        return self._node[0]

    def _label(self, lab: KubernetesLab, value: str | None) -> None:
        from drillbook.environments.kubernetes import NODE_NOT_READY_LABEL

        core, _ = _apis(lab)
        core.patch_node(self.node, {"metadata": {"labels": {NODE_NOT_READY_LABEL: value}}})

    def inject(self, lab: KubernetesLab) -> None:
        core, _ = _apis(lab)
        pods = core.list_namespaced_pod(lab.namespace).items
        hosts = {p.spec.node_name for p in pods if (p.metadata.labels or {}).get("app") == self.app}
        busy = {
            p.spec.node_name for p in pods if (p.metadata.labels or {}).get("app") in self.spare
        }
        choices = sorted(n for n in hosts - busy if n)
        if not choices:
            raise LabError(
                f"{lab.name}: no node runs {self.app} without {', '.join(self.spare)}",
                hint=f"{self.app} runs on {sorted(n for n in hosts if n)}",
            )
        self._node[:] = [choices[0]]
        if lab.real_nodes():
            kubelet_signal(self.node, "STOP")
        else:
            self._label(lab, "true")

    def verify_active(self, lab: KubernetesLab) -> Check:
        core, _ = _apis(lab)
        ready = node_ready(core.read_node(self.node))
        pods = core.list_namespaced_pod(
            lab.namespace,
            label_selector=f"app={self.app}",
            field_selector=f"spec.nodeName={self.node}",
        ).items
        there = [p.metadata.name for p in pods if p.metadata.deletion_timestamp is None]
        return Check(
            ready != "True" and bool(there),
            f"{self.node} Ready={ready}; {self.app} pods there: {there or 'none'}",
        )

    def revert(self, lab: KubernetesLab) -> None:
        if not self._node:
            return
        core, _ = _apis(lab)
        if lab.real_nodes():
            kubelet_signal(self.node, "CONT")
        else:
            self._label(lab, None)
        core.patch_node(self.node, {"spec": {"unschedulable": None}})

        def ready() -> Check:
            status = node_ready(core.read_node(self.node))
            return Check(status == "True", f"Ready={status}")

        lab.wait(f"{self.node} Ready again after the revert", ready, self.timeout_s)
        lab.wait_ready(self.timeout_s)


def _degraded(lab: KubernetesLab, app: str, what: str, pods: list[str]) -> Check:
    """A release fault in effect: pods of ``app`` showing ``what`` and the workload short of
    ready replicas (the rollout kept the old ones up to maxUnavailable)."""
    row = next((r for r in lab.status() if r.service == app), None)
    degraded = row is not None and not row.healthy
    detail = row.detail if row else f"no workload {app}"
    return Check(bool(pods) and degraded, f"{detail}; {what}: {pods or 'none'}")


def _replace_template(lab: KubernetesLab, app: str, template: dict[str, Any]) -> None:
    """Deployment ``app``'s pod template replaced whole by a saved one (a JSON patch: a
    strategic merge would keep what the saved one lacks)."""
    _, apps = _apis(lab)
    apps.patch_namespaced_deployment(
        app, lab.namespace, [{"op": "replace", "path": "/spec/template", "value": template}]
    )


@dataclass(frozen=True)
class BadRollout:
    """A release whose container exits at start rolled out to Deployment ``app``: its template
    gets a command that exits 1 (a real crash on a real node) and the crash-loop label (the
    same on KWOK nodes, through drillbook's stage). The new pods crash-loop while the rollout
    takes old ones away up to maxUnavailable. Revert puts the saved template back when the
    Deployment still runs the bad one, and waits for the rollout."""

    app: str = "backend"
    timeout_s: float = 60.0
    _saved: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return f"bad rollout of {self.app}: its new pods crash-loop"

    def _bad(self, deployment: Any) -> bool:
        from drillbook.environments.kubernetes import CRASH_LOOP_LABEL

        return (deployment.spec.template.metadata.labels or {}).get(CRASH_LOOP_LABEL) == "true"

    def inject(self, lab: KubernetesLab) -> None:
        from drillbook.environments.kubernetes import CRASH_LOOP_LABEL

        _, apps = _apis(lab)
        deployment = apps.read_namespaced_deployment(self.app, lab.namespace)
        if not self._bad(deployment):
            self._saved["template"] = lab.api.sanitize_for_serialization(deployment.spec.template)
        container = deployment.spec.template.spec.containers[0].name
        exit_1 = ["sh", "-c", "echo 'bad release: required setting missing' >&2; exit 1"]
        apps.patch_namespaced_deployment(
            self.app,
            lab.namespace,
            {
                "spec": {
                    "template": {
                        "metadata": {"labels": {CRASH_LOOP_LABEL: "true"}},
                        "spec": {"containers": [{"name": container, "command": exit_1}]},
                    }
                }
            },
        )

    def verify_active(self, lab: KubernetesLab) -> Check:
        core, _ = _apis(lab)
        pods = core.list_namespaced_pod(lab.namespace, label_selector=f"app={self.app}").items
        looping = [
            p.metadata.name
            for p in pods
            for c in p.status.container_statuses or []
            if c.state and c.state.waiting and c.state.waiting.reason == "CrashLoopBackOff"
        ]
        return _degraded(lab, self.app, "CrashLoopBackOff", looping)

    def revert(self, lab: KubernetesLab) -> None:
        from drillbook.environments.kubernetes import KubernetesPlatform

        saved = self._saved.get("template")
        if saved is None:
            return
        _, apps = _apis(lab)
        if self._bad(apps.read_namespaced_deployment(self.app, lab.namespace)):
            _replace_template(lab, self.app, saved)
        KubernetesPlatform(lab).wait_rollout(self.app, self.timeout_s)
        self._saved.clear()


@dataclass(frozen=True)
class MemoryLimit:
    """A release of Deployment ``app`` with a memory limit too low for it: ``limit`` on the
    container (its request too, which may not exceed it) and ``MEMORY_BALLAST_MB`` set to
    ``ballast_mb``, which the backend allocates at start. On a real node the kernel's OOM
    killer ends the process (``OOMKilled``, exit 137) and the kubelet restarts it into
    CrashLoopBackOff, while the rollout keeps the old replicas up to maxUnavailable. Revert
    puts the saved template back whatever the remediation changed (its 4Gi limit included),
    and waits for the rollout. Real nodes only: a kwok node runs no process to end."""

    app: str = "backend"
    limit: str = "48Mi"
    ballast_mb: int = 96
    timeout_s: float = 90.0
    _saved: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return f"memory limit {self.limit} on {self.app} (ballast {self.ballast_mb} MB): OOM kills"

    def inject(self, lab: KubernetesLab) -> None:
        _, apps = _apis(lab)
        deployment = apps.read_namespaced_deployment(self.app, lab.namespace)
        if "template" not in self._saved:
            self._saved["template"] = lab.api.sanitize_for_serialization(deployment.spec.template)
        container = deployment.spec.template.spec.containers[0].name
        memory = {"memory": self.limit}
        apps.patch_namespaced_deployment(
            self.app,
            lab.namespace,
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": container,
                                    "resources": {"limits": memory, "requests": memory},
                                    "env": [
                                        {"name": "MEMORY_BALLAST_MB", "value": str(self.ballast_mb)}
                                    ],
                                }
                            ]
                        }
                    }
                }
            },
        )

    def oom_killed(self, lab: KubernetesLab) -> list[str]:
        """The pods of ``app`` whose container the kernel ended for memory (now or last)."""
        core, _ = _apis(lab)
        pods = core.list_namespaced_pod(lab.namespace, label_selector=f"app={self.app}").items
        return [
            p.metadata.name
            for p in pods
            for c in p.status.container_statuses or []
            for state in (c.state, c.last_state)
            if state and state.terminated and state.terminated.reason == "OOMKilled"
        ]

    def verify_active(self, lab: KubernetesLab) -> Check:
        return _degraded(lab, self.app, "OOMKilled", self.oom_killed(lab))

    def revert(self, lab: KubernetesLab) -> None:
        from drillbook.environments.kubernetes import KubernetesPlatform

        saved = self._saved.get("template")
        if saved is None:
            return
        _replace_template(lab, self.app, saved)
        KubernetesPlatform(lab).wait_rollout(self.app, self.timeout_s)
        self._saved.clear()


#: the Kubernetes lab's faults by the names drill files use (``pod_kill: {app: api}``), as
#: :data:`drillbook.faults.FAULTS` names the Docker lab's
KUBERNETES_FAULTS: Registry[Any] = Registry("Kubernetes fault")
for _name, _cls in (
    ("pod_kill", PodKill),
    ("claim_pending", ClaimPending),
    ("policy_partition", PolicyPartition),
    ("node_not_ready", NodeNotReady),
    ("bad_rollout", BadRollout),
    ("memory_limit", MemoryLimit),
):
    KUBERNETES_FAULTS.add(_name, _cls)

"""Probes of the Kubernetes lab: one look through the API, as ``Check(ok, detail)``.

What ``kubectl rollout status`` and ``kubectl get pods -o wide`` would say, read from the API of
a lab context; the registry :data:`KUBERNETES_PROBES` names them for drill files
(``workload_ready: {app: api}``), as :data:`drillbook.probes.PROBES` does on Docker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drillbook.environments.kubernetes import KubernetesLab, node_ready
from drillbook.probes import exposure_within
from drillbook.registry import Registry
from drillbook.waiting import Check

__all__ = [
    "KUBERNETES_PROBES",
    "BackendHealthy",
    "ExposureBelow",
    "OnReadyNodes",
    "PolicyAllows",
    "RolloutComplete",
    "WorkloadReady",
]


@dataclass(frozen=True)
class WorkloadReady:
    """The Deployment or StatefulSet ``app`` has every replica ready (what ``kubectl rollout
    status`` waits for), and at least one: a workload scaled to 0 serves nothing."""

    app: str

    @property
    def name(self) -> str:
        return f"{self.app}: every replica ready"

    def check(self, lab: KubernetesLab) -> Check:
        row = next((r for r in lab.status() if r.service == self.app), None)
        if row is None:
            return Check(False, f"no workload {self.app} in {lab.name}")
        want = next((w.spec.replicas for _, n, w in lab.workloads() if n == self.app), None)
        if want == 0:  # 0/0 ready is nothing serving, not every replica ready
            return Check(False, f"{row.detail}: scaled to 0, nothing serves")
        return Check(row.healthy, row.detail)


@dataclass(frozen=True)
class RolloutComplete:
    """Deployment ``app``'s newest template on every replica, all available (``kubectl
    rollout status`` returns), and no pod of it crash-looping."""

    app: str

    @property
    def name(self) -> str:
        return f"{self.app}: rollout complete"

    def check(self, lab: KubernetesLab) -> Check:
        done, detail = lab.rollout(self.app)
        return Check(done, detail)


@dataclass(frozen=True)
class OnReadyNodes:
    """Every pod of ``app`` runs on a Ready node (``kubectl get pods -o wide`` against ``kubectl
    get nodes``): a pod on a NotReady node serves nobody, whatever its last status says. A pod
    being deleted (Terminating, as evicted pods on an unreachable real node stay) is no
    endpoint and is not counted."""

    app: str

    @property
    def name(self) -> str:
        return f"{self.app}: every pod on a Ready node"

    def check(self, lab: KubernetesLab) -> Check:
        from kubernetes import client

        core: Any = client.CoreV1Api(lab.api)
        ready = {n.metadata.name for n in core.list_node().items if node_ready(n) == "True"}
        pods = core.list_namespaced_pod(lab.namespace, label_selector=f"app={self.app}").items
        stranded = [
            f"{p.metadata.name} on {p.spec.node_name}"
            for p in pods
            if p.spec.node_name
            and p.spec.node_name not in ready
            and p.metadata.deletion_timestamp is None
        ]
        return Check(
            not stranded,
            f"on NotReady nodes: {', '.join(stranded)}" if stranded else f"{len(pods)} pods",
        )


@dataclass(frozen=True)
class PolicyAllows:
    """The NetworkPolicies in the API let ``src`` reach ``dst`` on ``port`` (as a
    policy-enforcing CNI decides); on real nodes the packets must agree: a real TCP connect
    from a pod of ``src`` to a pod of ``dst`` succeeds (simulated nodes move no packets)."""

    src: str
    dst: str
    port: int

    @property
    def name(self) -> str:
        return f"{self.src} may reach {self.dst}:{self.port}"

    def check(self, lab: KubernetesLab) -> Check:
        ok, why = lab.reachable(self.src, self.dst, self.port)
        if not lab.real_nodes():
            return Check(ok, why)
        from drillbook.environments.kubernetes import KubernetesPlatform

        connected, how = KubernetesPlatform(lab).connects(self.src, self.dst, self.port)
        return Check(ok and connected, f"{why}; {how}")


@dataclass(frozen=True)
class BackendHealthy:
    """The backend's own ``GET :8080/health`` from inside a ready backend pod reports no
    problem (what its readiness probe calls healthy: ``ok``, or ``degraded`` without a
    problem), or, with ``dependency``, that dependency up (``kubectl exec deploy/backend --
    curl localhost:8080/health``). Needs real nodes (NeedsRealNode on simulated ones)."""

    dependency: str = ""

    @property
    def name(self) -> str:
        what = f"{self.dependency} up" if self.dependency else "no problem"
        return f"backend /health (in its pod): {what}"

    def check(self, lab: KubernetesLab) -> Check:
        from drillbook.environments.kubernetes import KubernetesPlatform
        from drillbook.errors import LabError

        try:
            health = KubernetesPlatform(lab).get_json("backend", 8080, "/health")
        except LabError as exc:
            return Check(False, f"GET /health in a backend pod: {exc}")
        if self.dependency:
            dep = (health.get("dependencies") or {}).get(self.dependency) or {}
            return Check(bool(dep.get("up")), f"{self.dependency}: {dep}")
        # healthy as its readiness probe sees it: no problem (HTTP 200), even when degraded
        # (an exchange down while the bot simulates, as the runbook's mitigation wants)
        problems = health.get("problems")
        return Check(not problems, f"{health.get('status')}: {problems or 'no problem'}")


@dataclass(frozen=True)
class ExposureBelow:
    """The bot's exposure (``GET :3000/api/risk`` from inside a ready backend pod: open
    notional over equity, from the positions every replica shares in PostgreSQL) is below
    ``fraction`` of its limit: HighRiskExposure's condition is false. Real nodes only."""

    fraction: float = 0.8

    @property
    def name(self) -> str:
        return f"exposure below {self.fraction:.0%} of the limit (in a backend pod)"

    def check(self, lab: KubernetesLab) -> Check:
        from drillbook.environments.kubernetes import KubernetesPlatform
        from drillbook.errors import LabError

        try:
            risk = KubernetesPlatform(lab).get_json("backend", 3000, "/api/risk")
            return exposure_within(risk, self.fraction)
        except (LabError, KeyError, TypeError, ValueError) as exc:  # no answer is not a pass
            return Check(False, f"GET /api/risk in a backend pod: {type(exc).__name__}: {exc}")


#: the Kubernetes lab's probes by the names drill files use
KUBERNETES_PROBES: Registry[Any] = Registry("Kubernetes probe")
for _name, _cls in (
    ("workload_ready", WorkloadReady),
    ("rollout_complete", RolloutComplete),
    ("on_ready_nodes", OnReadyNodes),
    ("policy_allows", PolicyAllows),
    ("backend_healthy", BackendHealthy),
    ("exposure_below", ExposureBelow),
):
    KUBERNETES_PROBES.add(_name, _cls)

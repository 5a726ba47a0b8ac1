"""Runbook verbs on Kubernetes, through the API, with the names the Docker platform uses, so a
drill's steps read the same on both tiers where the semantics exist.

``restart`` is ``kubectl rollout restart`` (a template annotation), ``scale``, ``set_env`` and
``patch_resources`` patch the workload, ``delete_pod`` deletes by ``app=`` label, ``wait_ready``
waits for every replica. Verbs that need a container really running (``exec``, ``logs``, ``sql``)
raise :class:`NeedsRealNode` on simulated (kwok) nodes: the runner records the step as skipped,
it never fakes it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drillbook.environments.kubernetes._lab import KubernetesLab
from drillbook.errors import DrillbookError, LabError

__all__ = ["KubernetesPlatform", "NeedsRealNode"]


class NeedsRealNode(DrillbookError):
    """A step needs a process really running (exec, logs, SQL); the nodes are simulated."""


class KubernetesPlatform:
    def __init__(self, lab: KubernetesLab, *, evidence_dir: Path | None = None) -> None:
        self.lab = lab
        self.evidence_dir = evidence_dir

    # -- API ------------------------------------------------------------------------------
    def _apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self.lab.api)

    def _core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.lab.api)

    def _kind(self, service: str) -> str:
        for kind, name, _ in self.lab.workloads():
            if name == service:
                return kind
        raise LabError(
            f"{self.lab.name}: no Deployment or StatefulSet {service!r}",
            hint=f"workloads: {', '.join(n for _, n, _ in self.lab.workloads())}",
        )

    def _patch(self, service: str, body: Mapping[str, Any]) -> None:
        apps, ns = self._apps(), self.lab.namespace
        if self._kind(service) == "StatefulSet":
            apps.patch_namespaced_stateful_set(service, ns, body)
        else:
            apps.patch_namespaced_deployment(service, ns, body)

    # -- runbook verbs --------------------------------------------------------------------
    def restart(self, service: str) -> None:
        """``kubectl rollout restart``: a new template revision, pods replaced by the rollout."""
        now = dt.datetime.now(dt.UTC).isoformat()
        self._patch(
            service,
            {
                "spec": {
                    "template": {
                        "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}
                    }
                }
            },
        )
        self.wait_ready()

    def scale(self, service: str, replicas: int) -> int:
        """``kubectl scale --replicas=N``."""
        if replicas < 0:
            raise LabError(f"scale {service}: replicas {replicas} < 0")
        body = {"spec": {"replicas": replicas}}
        apps, ns = self._apps(), self.lab.namespace
        if self._kind(service) == "StatefulSet":
            apps.patch_namespaced_stateful_set_scale(service, ns, body)
        else:
            apps.patch_namespaced_deployment_scale(service, ns, body)
        if replicas:
            self.wait_ready()
        return replicas

    def set_env(self, service: str, env: Mapping[str, str | None]) -> None:
        """``kubectl set env deployment/<service> K=V`` (``None`` unsets K)."""
        apps, ns = self._apps(), self.lab.namespace
        workload = (
            apps.read_namespaced_stateful_set(service, ns)
            if self._kind(service) == "StatefulSet"
            else apps.read_namespaced_deployment(service, ns)
        )
        container = workload.spec.template.spec.containers[0]
        current = [e for e in (container.env or []) if e.name not in env]
        listed = [{"name": e.name, "value": e.value} for e in current if e.value_from is None]
        kept = [e for e in current if e.value_from is not None]
        for e in kept:  # valueFrom entries (secrets) stay as they are
            listed.append(self.lab.api.sanitize_for_serialization(e))
        listed += [{"name": k, "value": v} for k, v in env.items() if v is not None]
        body = {
            "spec": {
                "template": {"spec": {"containers": [{"name": container.name, "env": listed}]}}
            }
        }
        self._patch(service, body)
        self.wait_ready()

    def patch_resources(
        self, service: str, memory: str | None = None, *, cpus: float | None = None
    ) -> None:
        """``kubectl patch deployment ... resources.limits``."""
        limits: dict[str, str] = {}
        if memory is not None:
            limits["memory"] = memory
        if cpus is not None:
            limits["cpu"] = f"{cpus:g}"
        if not limits:
            raise LabError(f"patch_resources {service}: give memory, cpus or both")
        name = service  # the runbook patches the container named like its deployment
        body = {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": name, "resources": {"limits": limits}}]}
                }
            }
        }
        self._patch(service, body)
        self.wait_ready()

    def delete_pod(self, service: str) -> None:
        """``kubectl delete pod -l app=<service>``: its controller makes new ones."""
        self._core().delete_collection_namespaced_pod(
            self.lab.namespace, label_selector=f"app={service}"
        )
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 120) -> None:
        self.lab.wait_ready(timeout_s)

    # -- needs a real node ----------------------------------------------------------------
    def exec(self, service: str, argv: Any, *, check: bool = True) -> Any:
        raise NeedsRealNode(f"exec in {service}: the nodes are simulated (kwok)")

    def logs(self, service: str, *, tail: int = 2000) -> str:
        raise NeedsRealNode(f"logs of {service}: the nodes are simulated (kwok)")

    def sql(self, query: str, params: Any = None) -> Any:
        raise NeedsRealNode("SQL: PostgreSQL does not run on simulated (kwok) nodes")

    # -- evidence -------------------------------------------------------------------------
    def save_evidence(self, name: str, text: str) -> Path:
        """Write ``text`` as ``name`` under the evidence directory, every lab secret value
        redacted."""
        from drillbook.environments.docker import redact

        if self.evidence_dir is None:
            self.evidence_dir = Path(tempfile.mkdtemp(prefix="drillbook-evidence-"))
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        path = self.evidence_dir / Path(name).name
        path.write_text(redact(text, list(self.lab._secret_values.values())))
        return path

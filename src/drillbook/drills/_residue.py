"""Residue: what a run of drills left changed in the lab, against the state it found.

Compared: each service's container state and health, environment (values of secret-looking
variables as hashes, never in clear), memory limit and replicas; the fake exchange's active
faults; the alert rules Prometheus has loaded. Not compared: what the system under test does
by itself while it runs (trades, positions, revisions of rolled-out containers).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from drillbook.environments.docker import DockerLab
from drillbook.errors import DrillbookError, LabError

__all__ = ["kubernetes_state", "lab_state", "residue"]

_SECRET = re.compile(r"KEY|SECRET|PASS|TOKEN|URL|DSN|ACCOUNTS|DATA_SOURCE", re.IGNORECASE)


def _shown(key: str, value: str) -> str:
    if _SECRET.search(key):
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]
    return value


def lab_state(lab: DockerLab) -> dict[str, Any]:
    """A comparable picture of the lab's configuration (safe to print: no secret in clear)."""
    state: dict[str, Any] = {}
    healthy = {row.service: row.healthy for row in lab.status()}
    for name in sorted(lab.services()):
        container = lab.container(name)
        container.reload()
        env = dict(
            item.split("=", 1) for item in container.attrs["Config"]["Env"] or [] if "=" in item
        )
        state[f"service {name}"] = {
            "status": container.status,
            "healthy": healthy.get(name),
            "memory": container.attrs["HostConfig"].get("Memory") or 0,
            "replicas": lab.replicas(name),
            "env": {k: _shown(k, v) for k, v in sorted(env.items())},
        }
    services = lab.services()
    if "exchange" in services:
        from drillbook.faults.exchange import admin_for

        try:
            state["exchange faults"] = sorted(f["kind"] for f in admin_for(lab).faults())
        except Exception as exc:  # an unreachable exchange is itself a difference
            state["exchange faults"] = f"unreadable: {type(exc).__name__}"
    if {"prometheus", "alertmanager", "responder"} <= set(services):
        from drillbook.detection import Detection

        try:
            rules = Detection.for_lab(lab).rules()
            state["alert rules"] = sorted(f"{r.rule.name}: {r.rule.expr}" for r in rules)
        except (DrillbookError, LabError) as exc:
            state["alert rules"] = f"unreadable: {exc}"
    return state


def kubernetes_state(lab: Any) -> dict[str, Any]:
    """The same picture for a ``KubernetesLab``: each workload's replicas, readiness and pod
    template (env values of secret-looking names hashed; ``kubectl rollout restart``'s
    restartedAt annotation left out, a restart being no change), the NetworkPolicies, each
    claim's class and phase, each node's readiness, cordon and labels."""
    from kubernetes import client

    state: dict[str, Any] = {}
    ready = {row.service: row.healthy for row in lab.status()}
    for kind, name, workload in lab.workloads():
        template = lab.api.sanitize_for_serialization(workload.spec.template)
        template.get("metadata", {}).get("annotations", {}).pop(
            "kubectl.kubernetes.io/restartedAt", None
        )
        for container in template.get("spec", {}).get("containers", []):
            for e in container.get("env", []):
                if "value" in e:
                    e["value"] = _shown(e["name"], str(e["value"]))
        state[f"{kind.lower()} {name}"] = {
            "replicas": workload.spec.replicas,
            "ready": ready.get(name),
            "template": _flat(template),
        }
    net: Any = client.NetworkingV1Api(lab.api)
    core: Any = client.CoreV1Api(lab.api)
    for p in net.list_namespaced_network_policy(lab.namespace).items:
        spec = lab.api.sanitize_for_serialization(p.spec)
        state[f"networkpolicy {p.metadata.name}"] = _flat(spec)
    for q in core.list_namespaced_resource_quota(lab.namespace).items:
        state[f"resourcequota {q.metadata.name}"] = dict(q.spec.hard or {})
    for c in core.list_namespaced_persistent_volume_claim(lab.namespace).items:
        state[f"pvc {c.metadata.name}"] = f"{c.spec.storage_class_name} {c.status.phase}"
    for n in core.list_node().items:
        conditions = {c.type: c.status for c in n.status.conditions or []}
        state[f"node {n.metadata.name}"] = {
            "ready": conditions.get("Ready"),
            "unschedulable": bool(n.spec.unschedulable),
            "labels": dict(sorted((n.metadata.labels or {}).items())),
        }
    return state


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    """A nested object as ``{"spec.containers[0].command": [...]}`` leaves: a residue line
    names the one field that changed. Empty maps and lists are no field."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flat(v, f"{path}.{k}" if path else str(k)))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            out.update(_flat(v, f"{path}[{i}]"))
    elif value not in ({}, [], None):
        out[path] = value
    return out


def residue(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """Every difference, one line each: ``service backend env API_RATE_LIMIT_DELAY: absent ->
    '1000'``. Empty when the lab is as it was."""
    lines: list[str] = []
    for key in sorted(set(before) | set(after), key=str):
        where = f"{prefix}{key}"
        a, b = before.get(key, _ABSENT), after.get(key, _ABSENT)
        if isinstance(a, dict) and isinstance(b, dict):
            lines += residue(a, b, f"{where} ")
        elif a != b:
            lines.append(f"{where}: {_fmt(a)} -> {_fmt(b)}")
    return lines


class _Absent:
    def __repr__(self) -> str:
        return "absent"


_ABSENT = _Absent()


def _fmt(value: Any) -> str:
    return repr(value)

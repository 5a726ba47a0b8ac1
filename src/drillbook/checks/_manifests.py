"""The Kubernetes manifests (fixtures/k8s) as an inventory: objects, labels, pods, containers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from drillbook.errors import ConfigError

__all__ = ["Inventory", "K8sObject", "selector_matches"]

_POD_OWNERS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet")


@dataclass(frozen=True)
class K8sObject:
    kind: str
    name: str
    namespace: str | None
    labels: tuple[tuple[str, str], ...]
    pod_labels: tuple[tuple[str, str], ...]  # what its pods carry (a Pod: its own labels)
    containers: tuple[str, ...]
    command: tuple[str, ...]  # the first container's command (a CronJob's: what a job runs)
    file: str


def selector_matches(selector: str, labels: tuple[tuple[str, str], ...]) -> bool:
    """Equality selectors (``app=backend,tier!=x``), as the runbook writes them."""
    have = dict(labels)
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if have.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if have.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in have:
                return False
        elif term not in have:
            return False
    return True


def _labels(meta: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in ((meta or {}).get("labels") or {}).items()))


def _pod_spec(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod metadata, pod spec) of a Pod, a workload's template or a CronJob's job template."""
    kind, spec = doc["kind"], doc.get("spec") or {}
    if kind == "Pod":
        return doc.get("metadata") or {}, spec
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template") or {}
    return template.get("metadata") or {}, template.get("spec") or {}


@dataclass(frozen=True)
class Inventory:
    directory: Path
    objects: tuple[K8sObject, ...]

    @classmethod
    def load(cls, directory: Path) -> Inventory:
        objects: list[K8sObject] = []
        for path in sorted(directory.glob("*.yaml")):
            try:
                docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path}: not YAML: {exc}") from exc
            for doc in docs:
                if not isinstance(doc, dict) or "kind" not in doc:
                    raise ConfigError(f"{path}: a document without kind")
                meta = doc.get("metadata") or {}
                pod_meta, pod_spec = _pod_spec(doc)
                containers = [c for c in pod_spec.get("containers") or [] if isinstance(c, dict)]
                objects.append(
                    K8sObject(
                        kind=str(doc["kind"]),
                        name=str(meta.get("name", "")),
                        namespace=meta.get("namespace"),
                        labels=_labels(meta),
                        pod_labels=_labels(pod_meta) if containers else (),
                        containers=tuple(str(c.get("name")) for c in containers),
                        command=tuple(str(a) for a in (containers[0].get("command") or []))
                        if containers
                        else (),
                        file=path.name,
                    )
                )
        return cls(directory, tuple(objects))

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted(p.name for p in self.directory.glob("*.yaml")))

    @property
    def namespaces(self) -> frozenset[str]:
        named = {o.name for o in self.objects if o.kind == "Namespace"}
        return frozenset(named | {o.namespace for o in self.objects if o.namespace})

    def get(self, kind: str, name: str, namespace: str | None) -> K8sObject | None:
        for obj in self.objects:
            if obj.kind == kind and obj.name == name and obj.namespace in (namespace, None):
                return obj
        return None

    def of_kind(self, kind: str, namespace: str | None) -> list[K8sObject]:
        return [o for o in self.objects if o.kind == kind and o.namespace in (namespace, None)]

    def pod_sources(self, namespace: str | None) -> list[K8sObject]:
        """What makes pods in ``namespace``: Pods and workloads (not CronJobs: their pods come
        and go)."""
        return [
            o
            for o in self.objects
            if o.namespace == namespace and (o.kind == "Pod" or o.kind in _POD_OWNERS)
        ]

    def matching(self, kind: str, selector: str, namespace: str | None) -> list[K8sObject]:
        if kind == "Pod":
            return [
                o for o in self.pod_sources(namespace) if selector_matches(selector, o.pod_labels)
            ]
        return [o for o in self.of_kind(kind, namespace) if selector_matches(selector, o.labels)]

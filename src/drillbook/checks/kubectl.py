"""kubectl commands checked against the manifests: kinds, names, namespaces, labels,
containers, secrets, cronjobs, files (offline, always; the live checks are in ``live``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from drillbook.checks._doc import RunbookDoc, segments
from drillbook.checks._finding import Finding
from drillbook.checks._manifests import Inventory
from drillbook.environments.kubernetes._kubectl_argv import (
    CLUSTER_KINDS,
    KubectlCall,
    Target,
    parse_kubectl,
)
from drillbook.runbook import Command

__all__ = ["KUBECTL_NEUTRAL", "check_kubectl", "kubectl_calls", "pod_app"]

_POD_PLACEHOLDER = re.compile(r"^<([a-z0-9-]+)-pod>$")
# placeholders any cluster resolves (a pod, a node, a moment): never a finding offline
KUBECTL_NEUTRAL = frozenset({"pod-name", "node-name", "affected-node", "timestamp"})


def pod_app(name: str) -> str | None:
    """``<backend-pod>`` -> ``backend``: the app label the placeholder stands for."""
    match = _POD_PLACEHOLDER.match(name)
    return match.group(1) if match else None


def kubectl_calls(doc: RunbookDoc) -> Iterator[tuple[Command, int, KubectlCall]]:
    for command in doc.commands():
        for seg in segments(command):
            call = parse_kubectl(seg.argv)
            if call is not None:
                yield command, seg.position, call


def _created_jobs(doc: RunbookDoc) -> set[str]:
    """Job names the runbook creates (``create job NAME-$(date +%s)``), as name prefixes."""
    names = set()
    for _, _, call in kubectl_calls(doc):
        if call.verb == "create" and call.sub == "job" and call.words:
            names.add(call.words[0].split("$(", 1)[0])
    return names


class _Offline:
    def __init__(self, doc: RunbookDoc, inventory: Inventory) -> None:
        self.doc = doc
        self.inv = inventory
        self.jobs = _created_jobs(doc)
        self.out: list[Finding] = []

    def add(self, command: Command, code: str, severity: str, message: str, **kw: str) -> None:
        self.out.append(self.doc.finding("kubectl", code, severity, command, message, **kw))

    def call(self, command: Command, position: int, call: KubectlCall) -> None:
        ns = call.namespace
        if ns is not None and ns not in self.inv.namespaces:
            self.add(
                command,
                "kubectl.unknown-namespace",
                "error",
                f"namespace {ns!r} is in no manifest (they declare: "
                f"{', '.join(sorted(self.inv.namespaces))})",
                hint="a namespace of another environment does not exist in this one; "
                "name it in the manifests or fix the -n",
                subject=ns,
            )
            return
        self.namespace_missing(command, position, call)
        for target in call.targets:
            self.target(command, call, target)
        if call.selector:
            self.selector(command, call)
        for path in call.values.get("filename", ()):
            self.file(command, path)
        source = call.value("from")
        if source and "/" in source:
            kind, _, name = source.partition("/")
            self.target(command, call, Target("CronJob" if kind == "cronjob" else kind, name))
        self.containers(command, call)
        if call.verb == "drain" and not call.value("timeout"):
            self.add(
                command,
                "kubectl.drain-without-timeout",
                "warning",
                "kubectl drain waits without end for pods that stay Terminating (a node that "
                "stopped reporting)",
                hint="add --timeout=120s (or --skip-wait-for-delete-timeout)",
                subject="drain",
            )

    def namespace_missing(self, command: Command, position: int, call: KubectlCall) -> None:
        if call.namespace is not None or call.verb in ("cp", "drain", "apply"):
            return
        kinds = [t.kind for t in call.targets]
        if call.verb == "create" and call.sub.startswith("secret"):
            kinds = ["Secret"]
        elif call.verb == "create" and call.sub == "job":
            kinds = ["Job"]
        namespaced = [k for k in kinds if k not in CLUSTER_KINDS]
        if namespaced:
            self.add(
                command,
                "kubectl.no-namespace",
                "error",
                f"kubectl {f'{call.verb} {call.sub}'.strip()} without -n: the {namespaced[0]} "
                f"is in the context's default namespace, not "
                f"{', '.join(sorted(self.inv.namespaces))}",
                hint=f"add -n {sorted(self.inv.namespaces)[0]}",
                subject=namespaced[0],
            )

    def target(self, command: Command, call: KubectlCall, target: Target) -> None:
        name, ns = target.name, call.namespace
        if name is None or (call.verb == "create" and target.kind != "CronJob"):
            return
        if target.kind in CLUSTER_KINDS:
            ns = None
        if name.startswith("<") and name.endswith(">"):
            self.placeholder(command, call, target)
            return
        if target.kind == "Job" and any(
            name.split("<", 1)[0].startswith(p) for p in self.jobs if p
        ):
            return
        if target.kind in ("Node",):
            return  # nodes are the cluster's, not the manifests'
        if self.inv.get(target.kind, name, ns) is None:
            known = [o.name for o in self.inv.of_kind(target.kind, ns)]
            self.add(
                command,
                "kubectl.unknown-object",
                "error",
                f"{target.kind} {name!r} is in no manifest"
                + (f" of namespace {ns!r}" if ns else "")
                + (f" (there: {', '.join(known)})" if known else ""),
                hint="nothing creates it: fix the name, or add it to the manifests",
                subject=f"{target.kind}/{name}",
            )

    def placeholder(self, command: Command, call: KubectlCall, target: Target) -> None:
        name = (target.name or "").strip("<>")
        app = pod_app(f"<{name}>")
        if (
            target.kind == "Pod"
            and app is not None
            and not self.inv.matching("Pod", f"app={app}", call.namespace)
        ):
            self.add(
                command,
                "kubectl.unresolvable-placeholder",
                "error",
                f"<{name}>: no pod labelled app={app} in {call.namespace!r}: nothing in "
                "the manifests creates one",
                hint=f"deploy {app} where the runbook looks for it, or point the command "
                "at where it runs",
                subject=name,
            )

    def selector(self, command: Command, call: KubectlCall) -> None:
        kind = call.targets[0].kind if call.targets else "Pod"
        selector = call.selector or ""
        if not self.inv.matching(kind, selector, call.namespace):
            labels = sorted(
                {
                    v
                    for o in self.inv.pod_sources(call.namespace)
                    for k, v in o.pod_labels
                    if k == "app"
                }
            )
            self.add(
                command,
                "kubectl.selector-matches-nothing",
                "error",
                f"-l {selector} matches no {kind} in {call.namespace!r}"
                + (f" (app labels there: {', '.join(labels)})" if labels else ""),
                hint="a selector that matches nothing makes get/delete/wait succeed doing nothing",
                subject=selector,
            )

    def file(self, command: Command, path: str) -> None:
        if path == "-":
            return
        name = path.removeprefix("k8s/")
        if name not in self.inv.files:
            self.add(
                command,
                "kubectl.missing-file",
                "error",
                f"-f {path}: no such manifest (k8s/ has: {', '.join(self.inv.files)})",
                hint="the manifests are fixtures/k8s/*.yaml; add the file or drop the command",
                subject=path,
            )

    def containers(self, command: Command, call: KubectlCall) -> None:
        names: list[str] = []
        if call.verb == "patch" and call.value("patch"):
            raw = call.value("patch") or ""
            try:
                body = json.loads(raw)
            except json.JSONDecodeError as exc:
                self.add(command, "kubectl.bad-patch", "error", f"-p is not JSON: {exc}")
                return
            spec = body.get("spec", {}).get("template", {}).get("spec", {})
            names = [c.get("name", "") for c in spec.get("containers", []) if isinstance(c, dict)]
        elif call.verb == "set" and call.sub == "image":
            names = [w.split("=", 1)[0] for w in call.words if "=" in w]
        names += list(call.values.get("container", ()))
        for target in call.targets:
            obj = self.inv.get(target.kind, target.name or "", call.namespace)
            if obj is None:
                continue
            for name in names:
                if name not in obj.containers:
                    self.add(
                        command,
                        "kubectl.unknown-container",
                        "error",
                        f"{target.kind}/{obj.name} has no container {name!r} "
                        f"(it has: {', '.join(obj.containers)})",
                        hint="a strategic-merge patch with an unknown name adds a container "
                        "without an image: the rollout fails",
                        subject=name,
                    )


def check_kubectl(doc: RunbookDoc, inventory: Inventory) -> list[Finding]:
    """Every kubectl command of ``doc`` against the manifests."""
    offline = _Offline(doc, inventory)
    for command, position, call in kubectl_calls(doc):
        offline.call(command, position, call)
    return offline.out

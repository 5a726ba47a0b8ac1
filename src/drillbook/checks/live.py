"""kubectl commands checked against a live API server: real reads for get/describe/logs/exec
targets, server-side dry-run (dryRun=All) for mutating commands, placeholders resolved from
the cluster. Nothing is changed: every write is a dry run."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.checks.kubectl import KUBECTL_NEUTRAL, kubectl_calls, pod_app
from drillbook.environments.kubernetes._kubectl_argv import CLUSTER_KINDS, KubectlCall, Target
from drillbook.runbook import Command

__all__ = ["LiveKubectl"]

_API = {
    "Pod": "v1",
    "Service": "v1",
    "Secret": "v1",
    "PersistentVolumeClaim": "v1",
    "Node": "v1",
    "Event": "v1",
    "Endpoints": "v1",
    "ConfigMap": "v1",
    "ResourceQuota": "v1",
    "Namespace": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "StorageClass": "storage.k8s.io/v1",
}


def _reason(exc: Any) -> str:
    try:
        return str(json.loads(exc.body).get("message") or exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", exc))


class LiveKubectl:
    """``lab`` is a :class:`~drillbook.environments.kubernetes.KubernetesLab` with the stack
    applied; its ``documents`` serve ``kubectl apply -f k8s/...``."""

    def __init__(self, lab: Any) -> None:
        from kubernetes.dynamic import DynamicClient

        self.lab = lab
        self.dyn: Any = DynamicClient(lab.api)  # type: ignore[no-untyped-call]
        self.out: list[Finding] = []
        self.notes: list[str] = []
        self.doc: RunbookDoc | None = None

    def run(self, doc: RunbookDoc) -> tuple[list[Finding], list[str]]:
        self.doc = doc
        self.notes.append(f"kubectl checked live against context {self.lab.context}")
        for command, position, call in kubectl_calls(doc):
            if position == 0 or call.verb != "apply":
                self.call(command, call)
        return self.out, self.notes

    def add(self, command: Command, code: str, message: str, subject: str, hint: str = "") -> None:
        assert self.doc is not None
        self.out.append(
            self.doc.finding("kubectl", code, "error", command, message, hint=hint, subject=subject)
        )

    def resource(self, kind: str) -> Any:
        return self.dyn.resources.get(api_version=_API[kind], kind=kind)

    # -- placeholders ----------------------------------------------------------------------
    def resolve(self, command: Command, target: Target, ns: str | None) -> str | None:
        """A placeholder name resolved from the cluster; None when nothing matches (reported)."""
        name = target.name or ""
        if "<" in name and not (name.startswith("<") and name.endswith(">")):
            # emergency-backup-<timestamp>: a job an earlier step creates (a dry run creates
            # nothing), its name known only then
            self.notes.append(f"line {command.line}: {name} not read (created by the runbook)")
            return None
        if not (name.startswith("<") and name.endswith(">")):
            return name
        bare = name.strip("<>")
        if bare == "timestamp":
            return None  # a job the runbook creates earlier: nothing to read yet
        if target.kind == "Node" or bare in ("node-name", "affected-node"):
            items = self.resource("Node").get().items
            selector = ""
        else:
            app = pod_app(name)
            selector = f"app={app}" if app else ""
            items = self.resource("Pod").get(namespace=ns, label_selector=selector).items
        if items:
            found = str(items[0].metadata.name)
            self.notes.append(f"line {command.line}: {name} resolved to {found} (live)")
            return found
        if bare not in KUBECTL_NEUTRAL:
            self.add(
                command,
                "kubectl.live-unresolved",
                f"{name}: no {target.kind.lower()}"
                + (f" with {selector}" if selector else "")
                + f" in {ns!r} on the live cluster",
                bare,
            )
        return None

    # -- commands ---------------------------------------------------------------------------
    def call(self, command: Command, call: KubectlCall) -> None:
        from kubernetes.client.exceptions import ApiException

        ns = call.namespace
        if ns is not None and not self.exists(command, Target("Namespace", ns), None):
            return
        try:
            if call.verb == "top":
                self.metrics(command)
            elif call.verb == "apply":
                self.apply(command, call)
            elif call.verb == "create" and call.sub == "job":
                self.create_job(command, call)
            elif call.verb == "create":
                return
            for target in call.targets:
                name = self.resolve(command, target, ns) if target.name else None
                if target.name and name is None:
                    continue
                scope = None if target.kind in CLUSTER_KINDS else ns
                if name and not self.exists(command, Target(target.kind, name), scope):
                    continue
                if name and call.mutating:
                    self.dry_run(command, call, Target(target.kind, name), scope)
            if call.selector:
                self.select(command, call)
        except ApiException as exc:
            self.add(
                command,
                "kubectl.live-refused",
                f"the API server refused it: {_reason(exc)}",
                f"{call.verb} {call.sub}".strip(),
                hint="the message is the API server's own",
            )

    def exists(self, command: Command, target: Target, ns: str | None) -> bool:
        from kubernetes.client.exceptions import ApiException

        try:
            self.resource(target.kind).get(name=target.name, namespace=ns)
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.add(
                command,
                "kubectl.live-not-found",
                f"{target.kind} {target.name!r}"
                + (f" in namespace {ns!r}" if ns else "")
                + f" not found on the live cluster: {_reason(exc)}",
                f"{target.kind}/{target.name}",
            )
            return False
        return True

    def select(self, command: Command, call: KubectlCall) -> None:
        kind = call.targets[0].kind if call.targets else "Pod"
        items = self.resource(kind).get(namespace=call.namespace, label_selector=call.selector)
        if not items.items:
            self.add(
                command,
                "kubectl.live-selector-empty",
                f"-l {call.selector} selects no {kind} on the live cluster",
                call.selector or "",
            )

    def metrics(self, command: Command) -> None:
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            self.dyn.resources.get(api_version="metrics.k8s.io/v1beta1", kind="PodMetrics")
        except ResourceNotFoundError:
            self.add(
                command,
                "kubectl.live-no-metrics",
                "kubectl top needs the metrics API (metrics.k8s.io): the cluster serves none",
                "metrics.k8s.io",
                hint="install metrics-server, or read the usage from Prometheus",
            )

    def apply(self, command: Command, call: KubectlCall) -> None:
        from drillbook.errors import ConfigError

        for path in call.values.get("filename", ()):
            if path == "-":
                continue
            try:
                docs = self.lab.documents(only=path.removeprefix("k8s/"))
            except ConfigError:
                continue  # reported offline (kubectl.missing-file)
            for doc in docs:
                self.resource(doc["kind"]).server_side_apply(
                    body=doc,
                    name=doc["metadata"]["name"],
                    namespace=doc["metadata"].get("namespace"),
                    field_manager="drillbook-check",
                    force_conflicts=True,
                    dry_run="All",
                )

    def create_job(self, command: Command, call: KubectlCall) -> None:
        source = call.value("from") or ""
        kind, _, name = source.partition("/")
        if kind != "cronjob" or not call.words:
            return
        if not self.exists(command, Target("CronJob", name), call.namespace):
            return
        cronjob = self.resource("CronJob").get(name=name, namespace=call.namespace).to_dict()
        job_name = call.words[0].replace("$(date +%s)", str(int(time.time())))
        body = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": job_name, "namespace": call.namespace},
            "spec": copy.deepcopy(cronjob["spec"]["jobTemplate"]["spec"]),
        }
        self.resource("Job").create(body=body, namespace=call.namespace, dry_run="All")

    def dry_run(self, command: Command, call: KubectlCall, target: Target, ns: str | None) -> None:
        res = self.resource(target.kind)
        obj = res.get(name=target.name, namespace=ns).to_dict()
        containers = [
            c["name"]
            for c in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ]
        patch: dict[str, Any] | None = None
        if call.verb == "delete":
            res.delete(name=target.name, namespace=ns, dry_run="All")
            return
        if call.verb == "patch":
            patch = json.loads(call.value("patch") or "{}")
        elif call.verb == "scale":
            patch = {"spec": {"replicas": int(call.value("replicas") or 0)}}
        elif call.verb == "set" and call.sub == "env" and containers:
            env = [
                {"name": w.split("=", 1)[0], "value": w.split("=", 1)[1]}
                for w in call.words
                if "=" in w
            ]
            patch = {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": c, "env": env} for c in containers]}
                    }
                }
            }
        elif call.verb == "set" and call.sub == "image":
            pairs = [w.split("=", 1) for w in call.words if "=" in w]
            patch = {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": n, "image": i} for n, i in pairs]}
                    }
                }
            }
        elif call.verb == "rollout" and call.sub == "restart":
            stamp = {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
            patch = {"spec": {"template": {"metadata": {"annotations": stamp}}}}
        elif call.verb == "drain":
            patch = {"spec": {"unschedulable": True}}
        if patch is not None:
            res.patch(
                body=patch,
                name=target.name,
                namespace=ns,
                content_type="application/strategic-merge-patch+json",
                dry_run="All",
            )

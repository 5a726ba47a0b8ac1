"""The Kubernetes lab: the trading stack's manifests (fixtures/k8s) applied to a kubeconfig
context through the official client: the local control plane, kind, a staging cluster.

Only lab contexts are touched: a context named ``drillbook-*`` (the local control plane) or
``kind-drillbook*``, or one listed in ``DRILLBOOK_K8S_CONTEXTS`` (comma-separated). Anything
else is refused before a single request is sent.
"""

from __future__ import annotations

import os
import re
import secrets as _secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from drillbook.environments.base import ServiceHandle, ServiceStatus
from drillbook.errors import ConfigError, LabError, WaitTimeout
from drillbook.waiting import Check, Wait

__all__ = ["MANIFESTS", "KubernetesLab", "allowed_context"]

MANIFESTS = Path(__file__).resolve().parents[4] / "fixtures" / "k8s"
LAB_PREFIXES = ("drillbook-", "kind-drillbook")
RUN_ANNOTATION = "drillbook.io/run-id"
#: how often a wait on the lab looks again (the API server is on loopback or nearby)
POLL_S = 0.25
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def allowed_context(context: str) -> bool:
    extra = {c.strip() for c in os.environ.get("DRILLBOOK_K8S_CONTEXTS", "").split(",") if c}
    return context.startswith(LAB_PREFIXES) or context in extra


class KubernetesLab:
    """The stack in ``namespace`` of ``context`` (the kubeconfig's current one by default)."""

    def __init__(
        self,
        kubeconfig: str | Path | None = None,
        context: str | None = None,
        namespace: str = "trading-bot",
        manifests: Path | tuple[Path, ...] = MANIFESTS,
        *,
        monitoring: bool | None = None,
    ) -> None:
        """``monitoring``: run the detection pipeline in the cluster (``_monitoring``) when
        the nodes are real; by default for the reference stack's manifests only (a drill
        project's lab brings its own rules on Docker; not yet on Kubernetes)."""
        from kubernetes import config

        self.kubeconfig = str(kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config")
        path = os.path.expanduser(self.kubeconfig)
        try:
            contexts, current = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
        except (OSError, config.ConfigException) as exc:
            raise ConfigError(
                f"kubeconfig {path}: {exc}",
                hint="`drillbook k8s up` writes one for the local control plane",
            ) from exc
        names = [c["name"] for c in contexts]
        self.context = context or current["name"]
        if self.context not in names:
            raise ConfigError(
                f"kubeconfig {path} has no context {self.context!r}",
                hint=f"its contexts: {', '.join(names)}",
            )
        if not allowed_context(self.context):
            raise ConfigError(
                f"refusing context {self.context!r}: not a lab context",
                hint=f"drills touch only contexts named {' or '.join(LAB_PREFIXES)}...; add "
                "others to DRILLBOOK_K8S_CONTEXTS on purpose",
            )
        self.namespace = namespace
        self.manifests = manifests
        self.api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=path, context=self.context
        )
        self._secret_values: dict[str, str] = {}
        self._real_nodes: bool | None = None
        self.monitoring = manifests == MANIFESTS if monitoring is None else monitoring

    def close(self) -> None:
        """Close the API client's connections (the lab's namespace stays as it is)."""
        self.api.close()

    def __enter__(self) -> KubernetesLab:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- Environment ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"{self.context}/{self.namespace}"

    def wait(
        self,
        what: str,
        check: Callable[[], Check],
        timeout_s: float,
        *,
        hint: str | None = None,
        poll_s: float = POLL_S,
    ) -> Check:
        """Poll ``check`` (a :class:`~drillbook.waiting.Wait`) until it passes. Raises
        LabError on timeout, with Wait's message under the lab's name: what was awaited, for
        how long, what was seen last. An exception from ``check`` propagates at once (an API
        refusal is not a state to wait through)."""
        try:
            return Wait(timeout_s, poll_s).until(check, what, hint=hint, retry_on=())
        except WaitTimeout as exc:
            raise LabError(f"{self.name}: {exc.message}", hint=exc.hint) from exc

    @property
    def run_id(self) -> str:
        from kubernetes.client.exceptions import ApiException

        from kubernetes import client

        try:
            ns: Any = client.CoreV1Api(self.api).read_namespace(self.namespace)
        except ApiException:
            return ""
        return str((ns.metadata.annotations or {}).get(RUN_ANNOTATION, ""))

    def manifest_files(self) -> list[Path]:
        """The manifest files: a directory's ``*.yaml`` in name order, or the files given (a
        drill project's ``lab.manifests``), in their order."""
        if isinstance(self.manifests, tuple):
            return list(self.manifests)
        return sorted(self.manifests.glob("*.yaml"))

    def documents(self, only: str | None = None) -> list[dict[str, Any]]:
        """The manifests, in file order (namespace first), secrets filled in; ``only`` one
        file of them (``"network-policies.yaml"``)."""
        every = self.manifest_files()
        paths = every if only is None else [p for p in every if p.name == only]
        if not paths:
            where = (
                ", ".join(str(p) for p in self.manifests)
                if isinstance(self.manifests, tuple)
                else str(self.manifests)
            )
            raise ConfigError(
                f"no manifest {only or '*.yaml'!r} in {where}",
                hint=f"its files: {', '.join(p.name for p in every) or 'none'}",
            )
        docs = []
        for path in paths:
            try:
                loaded = [d for d in yaml.safe_load_all(path.read_text()) if d]
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path}: not YAML: {exc}") from exc
            for doc in loaded:
                if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                    raise ConfigError(f"{path}: a document without kind/apiVersion")
                docs.append(doc)
        docs.sort(key=lambda d: d["kind"] != "Namespace")
        for doc in docs:
            if doc["kind"] == "Secret":
                doc["stringData"] = {
                    k: _PLACEHOLDER.sub(lambda m: self._secret(m.group(1)), str(v))
                    for k, v in (doc.get("stringData") or {}).items()
                }
        return docs

    def start(self, timeout_s: float = 120) -> None:
        """Server-side apply every manifest (field manager ``drillbook``), then wait until each
        Deployment and StatefulSet has all its replicas ready. Secrets already in the
        namespace keep their values (a second ``lab up`` must not change the password of a
        database that was initialised with the first)."""
        self._adopt_live_secrets()
        docs = self.documents()
        if not any(d["kind"] == "Namespace" for d in docs):  # a project's manifests may have none
            docs.insert(
                0, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}
            )
        self.apply(docs)
        self.provide_volumes()
        watched = self.monitoring and self.real_nodes()
        if watched:  # starts beside the stack; its wait overlaps the stack's
            self.apply(self._monitoring_objects())
        self.wait_ready(timeout_s)
        if watched:
            self.wait_ready(timeout_s, namespace=self.monitoring_namespace)

    # -- the detection pipeline (real nodes) ---------------------------------------------
    @property
    def monitoring_namespace(self) -> str:
        from drillbook.environments.kubernetes._monitoring import monitoring_namespace

        return monitoring_namespace(self.namespace)

    def _monitoring_objects(self) -> list[dict[str, Any]]:
        from drillbook.environments.kubernetes._monitoring import monitoring_objects
        from drillbook.environments.monitoring import MonitoringSettings

        settings = MonitoringSettings()
        dsn = (
            f"postgresql://postgres:{self._secret('POSTGRES_PASSWORD')}@postgres-service."
            f"{self.namespace}.svc:5432/trading_bot?sslmode=disable&connect_timeout=1"
        )
        return monitoring_objects(
            self.namespace,
            {s: settings.env_for(s) for s in ("prometheus", "alertmanager")},
            dsn,
        )

    def has_monitoring(self) -> bool:
        """Whether the lab's detection pipeline runs (its Prometheus has a ready replica)."""
        from kubernetes.client.exceptions import ApiException

        from kubernetes import client

        apps: Any = client.AppsV1Api(self.api)
        try:
            d = apps.read_namespaced_deployment("prometheus", self.monitoring_namespace)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return bool(d.status.ready_replicas)

    def monitoring_fetch(
        self,
        service: str,
        path: str,
        method: str = "GET",
        data: bytes | None = None,
        timeout_s: float = 2.0,
    ) -> bytes:
        """``path`` (with its query) of a monitoring ``service``'s HTTP API, through the API
        server's service proxy. LabError names the service, path and answer on a failure."""
        from urllib.parse import quote

        from drillbook.environments.kubernetes._monitoring import MONITORING_PORTS

        port = MONITORING_PORTS[service]
        conf = self.api.configuration
        headers = {"Accept": "application/json, */*"}
        for auth in conf.auth_settings().values():  # a token, where the kubeconfig has one
            if auth.get("in") == "header" and auth.get("value"):
                headers[auth["key"]] = auth["value"]
        if data is not None:
            headers["Content-Type"] = "text/plain"
        url = (
            f"{conf.host}/api/v1/namespaces/{quote(self.monitoring_namespace)}/services/"
            f"{quote(service)}:{port}/proxy{path}"
        )
        try:  # the API client's own connection pool: its certificates, its CA
            resp = self.api.rest_client.pool_manager.request(
                method, url, headers=headers, body=data, timeout=timeout_s, retries=False
            )
        except Exception as exc:  # urllib3's errors: a refused or timed-out connection
            raise LabError(f"{method} {service}{path} failed: {exc}") from exc
        if resp.status >= 400:
            detail = bytes(resp.data).decode(errors="replace")[:300]
            raise LabError(f"{method} {service}{path} answered {resp.status}: {detail}")
        return bytes(resp.data)

    def apply_file(self, name: str) -> list[str]:
        """``kubectl apply -f k8s/<name>``: server-side apply of one manifest file; the
        objects applied (``Kind/name``)."""
        docs = self.documents(only=name)
        self.apply(docs)
        return [f"{d['kind']}/{d['metadata']['name']}" for d in docs]

    def apply(self, docs: list[dict[str, Any]]) -> None:
        """Server-side apply ``docs`` (field manager ``drillbook``, conflicts forced)."""
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic import DynamicClient

        dyn: Any = DynamicClient(self.api)  # type: ignore[no-untyped-call]
        run_id = self.run_id or _secrets.token_hex(4)
        for doc in docs:
            if doc["kind"] == "Namespace":
                doc.setdefault("metadata", {}).setdefault("annotations", {})[RUN_ANNOTATION] = (
                    run_id
                )
            where = f"{doc['kind']}/{doc['metadata']['name']}"
            try:
                resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
                namespace = doc["metadata"].get("namespace")
                if resource.namespaced and namespace is None:  # the lab's, as `kubectl -n`
                    namespace = doc["metadata"]["namespace"] = self.namespace
                resource.server_side_apply(
                    body=doc,
                    name=doc["metadata"]["name"],
                    namespace=namespace,
                    field_manager="drillbook",
                    force_conflicts=True,
                )
            except ApiException as exc:
                raise LabError(
                    f"{self.name}: applying {where} was refused: {_reason(exc)}",
                    hint=f"the manifest is in {self.manifests}",
                ) from exc
            if doc["kind"] == "Namespace":
                self._wait_default_account(doc["metadata"]["name"])

    def _wait_default_account(self, namespace: str, timeout_s: float = 30) -> None:
        """Pods are admitted only once the namespace's ``default`` service account exists
        (the controller-manager creates it a moment after the namespace)."""
        from kubernetes import client

        core: Any = client.CoreV1Api(self.api)

        def created() -> Check:
            found = core.list_namespaced_service_account(
                namespace, field_selector="metadata.name=default"
            ).items
            return Check(bool(found), "no service account default yet")

        self.wait(
            f"service account {namespace}/default",
            created,
            timeout_s,
            hint="is kube-controller-manager running? (`drillbook k8s status`)",
        )

    def provide_volumes(self) -> None:
        """A class without a provisioner (the local control plane's ``standard``) binds only
        to volumes that exist: one is created per claim, bound to it in advance, as an
        administrator provisions local storage. Classes with a provisioner (kind's) need none."""
        from kubernetes.client.exceptions import ApiException

        from kubernetes import client

        core: Any = client.CoreV1Api(self.api)
        storage: Any = client.StorageV1Api(self.api)
        for pvc in core.list_namespaced_persistent_volume_claim(self.namespace).items:
            cls = pvc.spec.storage_class_name
            try:
                provisioner = storage.read_storage_class(cls).provisioner if cls else ""
            except ApiException as exc:
                if exc.status == 404:
                    continue  # no such class: the claim stays Pending, as it would anywhere
                raise
            if provisioner != "kubernetes.io/no-provisioner":
                continue
            name = f"{self.namespace}-{pvc.metadata.name}"
            volume = {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name, "labels": {"drillbook.io/namespace": self.namespace}},
                "spec": {
                    "capacity": {"storage": pvc.spec.resources.requests["storage"]},
                    "accessModes": pvc.spec.access_modes,
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": cls,
                    "hostPath": {"path": f"/var/lib/drillbook/{name}"},
                    "claimRef": {"namespace": self.namespace, "name": pvc.metadata.name},
                },
            }
            try:
                core.create_persistent_volume(volume)
            except ApiException as exc:
                if exc.status != 409:  # already there
                    raise

    def wait_ready(self, timeout_s: float = 120, *, namespace: str | None = None) -> None:
        """Wait until every Deployment and StatefulSet (of ``namespace``, by default the
        lab's) has all its replicas ready."""
        namespace = namespace or self.namespace

        def ready() -> Check:
            rows = self.status(namespace)
            waiting = [f"{r.service}: {r.detail}" for r in rows if not r.healthy]
            if not rows:
                return Check(False, "no Deployment or StatefulSet")
            return Check(not waiting, "; ".join(waiting))

        self.wait(
            "every workload ready",
            ready,
            timeout_s,
            hint=f"kubectl --context {self.context} -n {namespace} get pods,events",
        )

    def stop(self, timeout_s: float = 60) -> list[str]:
        """Delete the namespace and everything in it, and the namespace of its detection
        pipeline; wait until they are gone."""
        from kubernetes.client.exceptions import ApiException

        from kubernetes import client

        core: Any = client.CoreV1Api(self.api)
        deleted = []
        for namespace in (self.monitoring_namespace, self.namespace):
            try:
                core.delete_namespace(namespace)
                deleted.append(namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
        if not deleted:
            return []

        def gone() -> Check:
            left = []
            for namespace in deleted:
                try:
                    ns = core.read_namespace(namespace)
                except ApiException as exc:
                    if exc.status == 404:
                        continue
                    raise
                left.append(f"{namespace} {ns.status.phase}")
            return Check(not left, "; ".join(left) or "gone")

        self.wait(f"namespace {' and '.join(deleted)} to be deleted", gone, timeout_s)
        selector = f"drillbook.io/namespace={self.namespace}"
        volumes = core.list_persistent_volume(label_selector=selector).items
        for pv in volumes:
            core.delete_persistent_volume(pv.metadata.name)
        return [f"namespace {n}" for n in reversed(deleted)] + [
            f"persistentvolume {pv.metadata.name}" for pv in volumes
        ]

    def services(self) -> Mapping[str, ServiceHandle]:
        from kubernetes import client

        core: Any = client.CoreV1Api(self.api)
        svc_names: dict[str, list[str]] = {}
        for svc in core.list_namespaced_service(self.namespace).items:
            app = (svc.spec.selector or {}).get("app")
            if app:
                svc_names.setdefault(app, []).append(svc.metadata.name)
        handles = {}
        for kind, name, workload in self.workloads():
            pods = core.list_namespaced_pod(self.namespace, label_selector=f"app={name}").items
            first = pods[0] if pods else None
            handles[name] = ServiceHandle(
                name=name,
                container_id=first.metadata.uid if first else "",
                container_name=first.metadata.name if first else "",
                image=workload.spec.template.spec.containers[0].image,
                aliases=(name, *svc_names.get(name, [])),
                endpoints={},
            )
            del kind
        return handles

    def status(self, namespace: str | None = None) -> list[ServiceStatus]:
        rows = []
        for kind, name, workload in self.workloads(namespace):
            want = workload.spec.replicas if workload.spec.replicas is not None else 1
            ready = workload.status.ready_replicas or 0
            rows.append(
                ServiceStatus(
                    name,
                    f"{kind.lower()}/{name}",
                    f"{ready}/{want} ready",
                    ready >= want,
                    f"{ready}/{want} replicas ready",
                    "",
                )
            )
        return rows

    def rollout(self, deployment: str) -> tuple[bool, str]:
        """Whether Deployment ``deployment``'s rollout is complete (what ``kubectl rollout
        status`` waits for: the newest template on every replica, all available, nothing old
        left), and what it stands at."""
        from kubernetes import client

        apps: Any = client.AppsV1Api(self.api)
        d = apps.read_namespaced_deployment(deployment, self.namespace)
        st, want = d.status, d.spec.replicas or 0
        done = (
            (st.observed_generation or 0) >= d.metadata.generation
            and (st.updated_replicas or 0) == want
            and (st.replicas or 0) == want
            and (st.available_replicas or 0) == want
        )
        return done, (
            f"{st.updated_replicas or 0}/{want} updated, {st.available_replicas or 0} "
            f"available, {st.replicas or 0} in all"
        )

    def real_nodes(self) -> bool:
        """Whether the cluster's nodes run containers (none is a kwok one); asked once."""
        if self._real_nodes is None:
            from kubernetes import client

            core: Any = client.CoreV1Api(self.api)
            nodes = core.list_node().items
            self._real_nodes = bool(nodes) and not any(
                (n.metadata.annotations or {}).get("kwok.x-k8s.io/node") == "fake" for n in nodes
            )
        return self._real_nodes

    def reachable(self, src: str, dst: str, port: int, protocol: str = "TCP") -> tuple[bool, str]:
        """Whether the NetworkPolicies in the API let pods of workload ``src`` reach pods of
        ``dst`` on ``port`` (evaluated as a policy-enforcing CNI does; see ``_netpol``)."""
        from drillbook.environments.kubernetes._netpol import Endpoint, allows
        from kubernetes import client

        templates = {name: w.spec.template for _, name, w in self.workloads()}
        for name in (src, dst):
            if name not in templates:
                raise LabError(
                    f"{self.name}: no Deployment or StatefulSet {name!r}",
                    hint=f"workloads: {', '.join(sorted(templates))}",
                )
        namespace: Any = client.CoreV1Api(self.api).read_namespace(self.namespace)
        ns_labels = namespace.metadata.labels
        net: Any = client.NetworkingV1Api(self.api)
        policies = [
            self.api.sanitize_for_serialization(p)
            for p in net.list_namespaced_network_policy(self.namespace).items
        ]

        def endpoint(name: str) -> Endpoint:
            template = templates[name]
            ports = {
                p.name: p.container_port
                for c in template.spec.containers
                for p in c.ports or []
                if p.name
            }
            return Endpoint(
                dict(template.metadata.labels or {}),
                self.namespace,
                dict(ns_labels or {}),
                ports,
            )

        return allows(policies, endpoint(src), endpoint(dst), port, protocol)

    # -- internals -------------------------------------------------------------------------
    def workloads(self, namespace: str | None = None) -> list[tuple[str, str, Any]]:
        from kubernetes import client

        apps: Any = client.AppsV1Api(self.api)
        namespace = namespace or self.namespace
        found: list[tuple[str, str, Any]] = [
            ("Deployment", d.metadata.name, d)
            for d in apps.list_namespaced_deployment(namespace).items
        ]
        found += [
            ("StatefulSet", s.metadata.name, s)
            for s in apps.list_namespaced_stateful_set(namespace).items
        ]
        return sorted(found, key=lambda x: x[1])

    def _adopt_live_secrets(self) -> None:
        """Each ``${KEY}`` that is a whole value of a Secret already in the cluster takes the
        value it has there."""
        import base64

        from kubernetes.client.exceptions import ApiException

        from kubernetes import client

        core: Any = client.CoreV1Api(self.api)
        for path in self.manifest_files():
            for doc in yaml.safe_load_all(path.read_text()):
                if not isinstance(doc, dict) or doc.get("kind") != "Secret":
                    continue
                meta = doc.get("metadata") or {}
                try:
                    live = core.read_namespaced_secret(
                        meta["name"], meta.get("namespace", self.namespace)
                    )
                except ApiException as exc:
                    if exc.status == 404:
                        continue
                    raise
                data = live.data or {}
                for field_name, raw in (doc.get("stringData") or {}).items():
                    whole = _PLACEHOLDER.fullmatch(str(raw))
                    if whole and field_name in data:
                        value = base64.b64decode(data[field_name]).decode()
                        self._secret_values.setdefault(whole.group(1), value)

    def _secret(self, key: str) -> str:
        """A generated value per placeholder, the same everywhere in this lab; never printed."""
        if key not in self._secret_values:
            self._secret_values[key] = _secrets.token_urlsafe(18)
        return self._secret_values[key]


def node_ready(node: Any) -> str:
    """A Node's Ready condition: "True", "False", or "Unknown" (also when it has none)."""
    return next((c.status for c in node.status.conditions or [] if c.type == "Ready"), "Unknown")


def _reason(exc: Exception) -> str:
    """The API server's own message of a refusal (status, reason, message)."""
    import json as _json

    status, reason = getattr(exc, "status", "?"), getattr(exc, "reason", "")
    try:
        message = _json.loads(getattr(exc, "body", "") or "{}").get("message", "")
    except ValueError:
        message = str(getattr(exc, "body", ""))[:300]
    return f"{status} {reason}: {message}".strip()

"""Runbook verbs on Kubernetes, through the API, with the names the Docker platform uses, so a
drill's steps read the same on both tiers where the semantics exist.

``restart`` is ``kubectl rollout restart`` (a template annotation), ``scale``, ``set_env`` and
``patch_resources`` patch the workload, ``delete_pod`` deletes by ``app=`` label, ``wait_ready``
waits for every replica; ``rollout_undo`` and ``wait_rollout``, ``cordon`` and ``drain``,
``apply_manifest`` and ``create_job_from_cronjob`` are the runbook's other kubectl verbs.
Verbs that need a container really running (``exec``, ``logs``, ``sql``) raise
:class:`NeedsRealNode` on simulated (kwok) nodes: the runner records the step as skipped, it
never fakes it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from drillbook.environments.base import ExecResult
from drillbook.environments.kubernetes._lab import KubernetesLab
from drillbook.errors import DrillbookError, LabError
from drillbook.waiting import Check

__all__ = ["EXEC_TIMEOUT_S", "KubernetesPlatform", "NeedsRealNode"]

#: the longest a step run in a pod may take (``kubectl exec``)
EXEC_TIMEOUT_S = 120.0


class NeedsRealNode(DrillbookError):
    """A step needs a process really running (exec, logs, SQL); the nodes are simulated."""


class KubernetesPlatform:
    """The :class:`~drillbook.environments.base.Platform` verbs through the Kubernetes API,
    plus the runbook's Kubernetes-only ones (rollout history, cordon, drain, jobs)."""

    tier: Literal["kubernetes"] = "kubernetes"

    def __init__(self, lab: KubernetesLab, *, evidence_dir: Path | None = None) -> None:
        self.lab = lab
        self.evidence_dir = evidence_dir
        self._remembered: dict[str, dict[str, Any]] = {}

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

    def _patch(self, service: str, body: Mapping[str, Any] | list[Any]) -> None:
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
        """``kubectl scale --replicas=N``, then every workload ready; to 0 on real nodes, until
        every pod of it is gone (``kubectl wait --for=delete``)."""
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
        elif self.real_nodes():  # to 0: writes stop when the last process has, not before
            self._wait_no_pods(service)
        return replicas

    def _wait_no_pods(self, service: str, timeout_s: float = 120) -> None:
        """Until no pod of ``app=<service>`` is left (terminating ones included: a pod in
        its grace period still runs, and may still write)."""
        core, ns = self._core(), self.lab.namespace

        def gone() -> Check:
            pods = core.list_namespaced_pod(ns, label_selector=f"app={service}").items
            return Check(not pods, f"{len(pods)} pod(s) of app={service} left")

        self.lab.wait(f"every pod of {service} gone", gone, timeout_s)

    def set_env(self, service: str, env: Mapping[str, str | None]) -> None:
        """``kubectl set env deployment/<service> K=V`` (``None`` unsets K)."""
        apps, ns = self._apps(), self.lab.namespace
        workload = (
            apps.read_namespaced_stateful_set(service, ns)
            if self._kind(service) == "StatefulSet"
            else apps.read_namespaced_deployment(service, ns)
        )
        container = workload.spec.template.spec.containers[0]
        listed: list[Any] = []
        for e in container.env or []:  # in place, as kubectl set env edits (order kept)
            if e.name not in env:
                listed.append(self.lab.api.sanitize_for_serialization(e))
            elif env[e.name] is not None:
                listed.append({"name": e.name, "value": env[e.name]})
        present = {e.name for e in container.env or []}
        listed += [
            {"name": k, "value": v} for k, v in env.items() if v is not None and k not in present
        ]
        # a JSON patch replaces the list: a strategic merge keeps an entry it does not list,
        # so it could never unset one
        self._patch(
            service,
            [{"op": "replace", "path": "/spec/template/spec/containers/0/env", "value": listed}],
        )
        self._settle(service)

    def _settle(self, service: str) -> None:
        """After a template change: every workload ready, and a Deployment's rollout complete
        (no pod of the old template left to answer an exec or a request)."""
        self.wait_ready()
        if self._kind(service) == "Deployment":
            self.wait_rollout(service)

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
        self._settle(service)

    def delete_pod(self, service: str) -> None:
        """``kubectl delete pod -l app=<service>``: its controller makes new ones."""
        self._core().delete_collection_namespaced_pod(
            self.lab.namespace, label_selector=f"app={service}"
        )
        self.wait_ready()

    def wait_ready(self, service: str | None = None, timeout_s: float = 120) -> None:
        """``kubectl wait --for=condition=ready pod -l app=<service>``: a ready pod of it, on
        the pods themselves (a StatefulSet's status lags a kill by a moment); without
        ``service``, every workload of the lab ready."""
        if service is None or not self.real_nodes():
            self.lab.wait_ready(timeout_s)
            return

        def ready() -> Check:
            try:
                return Check(True, f"ready: {self.pod(service, ready=True)}")
            except LabError as exc:
                return Check(False, str(exc))

        self.lab.wait(f"a ready pod of app={service}", ready, timeout_s)

    def remember(self, service: str) -> None:
        """``kubectl get deployment/<service> -o yaml``: its pod template and replicas."""
        apps, ns = self._apps(), self.lab.namespace
        workload = (
            apps.read_namespaced_stateful_set(service, ns)
            if self._kind(service) == "StatefulSet"
            else apps.read_namespaced_deployment(service, ns)
        )
        self._remembered[service] = {
            "template": self.lab.api.sanitize_for_serialization(workload.spec.template),
            "replicas": workload.spec.replicas,
        }

    def restore(self, service: str) -> None:
        """``kubectl apply -f saved``: the remembered template and replicas back whole (what
        ``set env``, ``patch`` and ``scale`` changed), the rollout finished."""
        saved = self._remembered.pop(service, None)
        if saved is None:
            return
        self._patch(
            service,
            [
                {"op": "replace", "path": "/spec/template", "value": saved["template"]},
                {"op": "replace", "path": "/spec/replicas", "value": saved["replicas"]},
            ],
        )
        self._settle(service)

    def describe(self, service: str) -> str:
        """``kubectl describe pod -l app=<service>``: per container, ready, restarts, its
        state (a waiting reason, a termination), last termination (``OOMKilled``, exit 137)
        and limits."""
        lines = []
        for pod in (
            self._core()
            .list_namespaced_pod(self.lab.namespace, label_selector=f"app={service}")
            .items
        ):
            statuses = pod.status.container_statuses or []
            for c, spec in zip(statuses, pod.spec.containers, strict=False):
                last = c.last_state.terminated if c.last_state else None
                now = c.state.terminated if c.state else None
                state = c.state.waiting.reason if c.state and c.state.waiting else ""
                state = state or (f"terminated {now.reason} (exit {now.exit_code})" if now else "")
                limits = (spec.resources.limits or {}) if spec.resources else {}
                lines.append(
                    f"{pod.metadata.name}\tready={c.ready}\trestarts={c.restart_count}\t"
                    f"state={state or 'running'}\tlast={last.reason if last else ''}"
                    f"{f' (exit {last.exit_code})' if last else ''}\tlimits={dict(limits)}"
                )
        return "".join(f"{line}\n" for line in lines)

    def runs_processes(self) -> bool:
        """Real nodes run the containers; simulated (kwok) ones do not."""
        return self.real_nodes()

    def apply_manifest(self, name: str) -> list[str]:
        """``kubectl apply -f k8s/<name>`` (server-side apply of that manifest file)."""
        return self.lab.apply_file(name)

    def rollout_history(self, service: str) -> list[tuple[int, str]]:
        """``kubectl rollout history deployment/<service>``: (revision, ReplicaSet) oldest
        first."""
        return [(rev, rs.metadata.name) for rev, rs in self._revisions(service)]

    def _revisions(self, service: str) -> list[tuple[int, Any]]:
        apps, ns = self._apps(), self.lab.namespace
        deployment = apps.read_namespaced_deployment(service, ns)
        uid = deployment.metadata.uid
        owned = []
        for rs in apps.list_namespaced_replica_set(ns).items:
            if any(o.uid == uid for o in rs.metadata.owner_references or []):
                revision = (rs.metadata.annotations or {}).get("deployment.kubernetes.io/revision")
                if revision is not None:
                    owned.append((int(revision), rs))
        return sorted(owned, key=lambda pair: pair[0])

    def rollout_undo(self, service: str, *, timeout_s: float = 120) -> int:
        """``kubectl rollout undo deployment/<service>``: the previous revision's pod template
        back on the Deployment (a new rollout of it), then wait for the rollout to finish;
        the revision rolled back to."""
        apps, ns = self._apps(), self.lab.namespace
        if self._kind(service) != "Deployment":
            raise LabError(f"rollout undo {service}: only a Deployment keeps revisions here")
        deployment = apps.read_namespaced_deployment(service, ns)
        current = int(
            (deployment.metadata.annotations or {}).get("deployment.kubernetes.io/revision", 0)
        )
        previous = [(rev, rs) for rev, rs in self._revisions(service) if rev < current]
        if not previous:
            raise LabError(
                f"rollout undo {service}: no revision before {current}",
                hint=f"history: {self.rollout_history(service)}",
            )
        revision, rs = previous[-1]
        template = self.lab.api.sanitize_for_serialization(rs.spec.template)
        template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
        apps.patch_namespaced_deployment(
            service, ns, [{"op": "replace", "path": "/spec/template", "value": template}]
        )
        self.wait_rollout(service, timeout_s)
        return revision

    def wait_rollout(self, service: str, timeout_s: float = 120) -> None:
        """``kubectl rollout status``: the newest template on every replica, all of them
        ready and available, nothing old left."""
        self.lab.wait(
            f"the rollout of {service} to finish",
            lambda: Check(*self.lab.rollout(service)),
            timeout_s,
        )

    # -- nodes ----------------------------------------------------------------------------
    def cordon(self, node: str, *, on: bool = True) -> None:
        """``kubectl cordon`` (``on=False``: ``uncordon``)."""
        self._core().patch_node(node, {"spec": {"unschedulable": on}})

    def drain(self, node: str, *, timeout_s: float = 60, wait: bool = True) -> list[str]:
        """``kubectl drain <node> --ignore-daemonsets --delete-emptydir-data``: cordon, evict
        each pod there, of every namespace as kubectl does (the Eviction API, which honours
        disruption budgets), wait until they are gone (``wait=False``: not; a pod on a node
        whose kubelet does not answer stays Terminating). The pods evicted (``ns/name`` for
        those outside the lab's namespace). A drain of the lab's namespace only left CoreDNS on
        a frozen node: no name resolved for the pods started elsewhere."""
        from kubernetes.client.exceptions import ApiException

        from kubernetes import client

        core, ns = self._core(), self.lab.namespace
        self.cordon(node)

        def on_node() -> list[Any]:
            pods = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
            return [
                p
                for p in pods
                if not any(o.kind == "DaemonSet" for o in p.metadata.owner_references or [])
                and not (p.metadata.annotations or {}).get("kubernetes.io/config.mirror")
            ]

        evicted = []
        for pod in on_node():
            where = pod.metadata.namespace
            body = client.V1Eviction(
                metadata=client.V1ObjectMeta(name=pod.metadata.name, namespace=where)
            )
            try:
                core.create_namespaced_pod_eviction(pod.metadata.name, where, body)
            except ApiException as exc:
                if exc.status != 404:
                    raise LabError(
                        f"drain {node}: evicting {where}/{pod.metadata.name} refused: {exc.reason}"
                    ) from exc
            evicted.append(pod.metadata.name if where == ns else f"{where}/{pod.metadata.name}")
        if not wait:
            return evicted

        def drained() -> Check:
            left = [p.metadata.name for p in on_node()]
            return Check(not left, f"still there: {', '.join(left)}")

        self.lab.wait(
            f"the pods on {node} to be evicted (drain)",
            drained,
            timeout_s,
            hint="a pod on an unreachable node stays Terminating until the node answers or "
            "the pod is deleted with --grace-period=0 --force",
        )
        return evicted

    def node_of(self, app: str) -> list[str]:
        """``kubectl get pods -l app=<app> -o wide``: the nodes its pods run on."""
        pods = self._core().list_namespaced_pod(self.lab.namespace, label_selector=f"app={app}")
        return sorted({p.spec.node_name for p in pods.items if p.spec.node_name})

    # -- jobs -----------------------------------------------------------------------------
    def list_backups(self) -> str:
        """``kubectl exec backup-pod -- /app/scripts/restore.sh --list``: newest first, each
        line ``<path> ... verified`` for a backup the job verified."""
        return self.exec("backup-pod", ["/app/scripts/restore.sh", "--list"]).output

    def create_backup(self, name: str) -> str:
        """The runbook's emergency backup, ``kubectl create job --from=cronjob/postgres-backup
        <name>-<ts>``, to completion: the backup it wrote (the newest on the shared
        ``postgres-backups`` claim)."""
        import time

        self.create_job_from_cronjob("postgres-backup", f"{name}-{int(time.time())}", wait_s=120)
        listing = self.list_backups().split()
        if not listing:
            raise LabError("the backup job completed but backup-pod lists no backup")
        return listing[0]

    def restore_backup(self, path: str) -> str:
        """``kubectl exec backup-pod -- /app/scripts/restore.sh --file <path>``."""
        return self.exec("backup-pod", ["/app/scripts/restore.sh", "--file", path]).output

    def create_job_from_cronjob(self, cronjob: str, name: str, *, wait_s: float | None = 60) -> str:
        """``kubectl create job --from=cronjob/<cronjob> <name>``: a Job from the CronJob's
        template, owned by it; waits until it completes unless ``wait_s`` is None."""
        from kubernetes import client

        batch: Any = client.BatchV1Api(self.lab.api)
        ns = self.lab.namespace
        cron = batch.read_namespaced_cron_job(cronjob, ns)
        template = self.lab.api.sanitize_for_serialization(cron.spec.job_template)
        body = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                "labels": template.get("metadata", {}).get("labels", {}),
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": cronjob,
                        "uid": cron.metadata.uid,
                        "controller": True,
                    }
                ],
            },
            "spec": template["spec"],
        }
        batch.create_namespaced_job(ns, body)
        if wait_s is None:
            return name

        def complete() -> Check:
            status = batch.read_namespaced_job_status(name, ns).status
            conditions = {c.type: c.status for c in status.conditions or []}
            if conditions.get("Failed") == "True":  # no wait fixes it: said at once
                raise LabError(f"job {name} from cronjob/{cronjob} failed: {status}")
            return Check(
                conditions.get("Complete") == "True",
                f"active {status.active or 0}, succeeded {status.succeeded or 0}, "
                f"conditions {conditions or 'none yet'}",
            )

        self.lab.wait(f"job {name} from cronjob/{cronjob} to complete", complete, wait_s)
        return name

    # -- needs a real node ----------------------------------------------------------------
    def real_nodes(self) -> bool:
        """Whether the cluster's nodes run containers (no node is a kwok one)."""
        return self.lab.real_nodes()

    def connects(
        self, src: str, dst: str, port: int, *, timeout_s: float = 2.0
    ) -> tuple[bool, str]:
        """A real TCP connect from a ready pod of ``src`` to a ready pod of ``dst`` on ``port``
        (``nc -z`` by the pod's IP: no DNS, which a partition may cut too): what the packets
        say, beside what the policies in the API say."""
        try:
            target = self._ready_pod(dst)
            address = target.status.pod_ip
            result = self.exec(
                src, ["nc", "-z", "-w", f"{timeout_s:g}", address, str(port)], check=False
            )
        except LabError as exc:
            return False, f"no connect tried: {exc}"
        if result.exit_code == 0:
            return True, f"TCP connect {src} -> {dst} ({address}:{port}) succeeded"
        return False, (
            f"TCP connect {src} -> {dst} ({address}:{port}) failed "
            f"(exit {result.exit_code}, {timeout_s:g}s timeout)"
        )

    def _ready_pod(self, service: str, *, ready_only: bool = False) -> Any:
        pods = (
            self._core()
            .list_namespaced_pod(self.lab.namespace, label_selector=f"app={service}")
            .items
        )
        ready = sorted(
            (
                p
                for p in pods
                if p.metadata.deletion_timestamp is None
                and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
            ),
            key=lambda p: p.metadata.name,
        )
        if ready:
            return ready[0]
        if ready_only:
            raise LabError(f"no ready pod of app={service} in {self.lab.name}")
        # as kubectl exec deploy/X: a ready pod first, else one whose container runs (a
        # backend that reports itself unhealthy is still where the runbook looks)
        running = sorted(
            (
                p
                for p in pods
                if p.metadata.deletion_timestamp is None
                and p.status.phase == "Running"
                and any(c.state and c.state.running for c in p.status.container_statuses or [])
            ),
            key=lambda p: p.metadata.name,
        )
        if not running:
            raise LabError(f"no ready or running pod of app={service} in {self.lab.name}")
        return running[0]

    def pod(self, service: str, *, ready: bool = False) -> str:
        """The first ready pod of ``app=<service>`` (by name), else (unless ``ready``) the first
        running one, as ``kubectl exec deploy/X`` picks."""
        try:
            return str(self._ready_pod(service, ready_only=ready).metadata.name)
        except LabError as exc:
            raise LabError(
                f"no ready or running pod of app={service} in {self.lab.name} to exec in"
            ) from exc

    def exec(self, service: str, argv: Sequence[str], *, check: bool = True) -> ExecResult:
        """``kubectl exec deploy/<service> -- ARGV``: run in the first ready pod, for real."""
        if not self.real_nodes():
            raise NeedsRealNode(f"exec in {service}: the nodes are simulated (kwok)")
        from kubernetes.stream import stream

        pod = self.pod(service)
        resp: Any = stream(
            self._core().connect_get_namespaced_pod_exec,
            pod,
            self.lab.namespace,
            command=list(argv),
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        try:
            resp.run_forever(timeout=EXEC_TIMEOUT_S)
            if resp.is_open():
                raise LabError(
                    f"`{' '.join(argv)}` in pod {pod} still running after {EXEC_TIMEOUT_S:.0f}s"
                )
            text = resp.read_stdout() + resp.read_stderr()
            try:
                code = int(resp.returncode or 0)
            except (ValueError, KeyError, TypeError) as exc:  # no exit code: the exec failed
                raise LabError(
                    f"`{' '.join(argv)}` in pod {pod} could not run (the pod is going away?): "
                    f"{str(exc)[:300]}"
                ) from None
        finally:
            resp.close()
            # websocket-client's close() leaves the TLS socket open when the API server closed
            # the stream first (the command exited): shut it down ourselves
            if getattr(resp, "sock", None) is not None:
                resp.sock.shutdown()
        if check and code != 0:
            raise LabError(f"`{' '.join(argv)}` in pod {pod} exited {code}: {text.strip()[-500:]}")
        return ExecResult(code, text)

    def get_json(self, service: str, port: int, path: str, *, timeout_s: float = 2.0) -> Any:
        """``GET localhost:<port><path>`` from inside a ready pod of ``service`` (``kubectl exec
        ... curl``): its JSON body, whatever the status (a 503 /health still says why)."""
        import json

        url = f"http://127.0.0.1:{port}{path}"
        output = self.exec(service, ["curl", "-s", "-m", f"{timeout_s:g}", url]).output
        try:
            return json.loads(output)
        except ValueError as exc:
            raise LabError(f"GET {url} in a pod of {service}: not JSON: {output[:200]!r}") from exc

    def post_json(
        self, service: str, port: int, path: str, body: Any, *, timeout_s: float = 10.0
    ) -> Any:
        """``POST localhost:<port><path>`` with a JSON ``body`` from inside a ready pod of
        ``service`` (``kubectl exec ... curl -X POST``): its JSON answer; LabError on an HTTP
        error, with the answer."""
        import json

        url = f"http://127.0.0.1:{port}{path}"
        argv = [
            "curl", "-s", "-m", f"{timeout_s:g}", "-X", "POST", "-w", "\\n%{http_code}",
            "-H", "Content-Type: application/json", "-d", json.dumps(body), url,
        ]  # fmt: skip
        output = self.exec(service, argv).output
        text, _, status = output.rstrip().rpartition("\n")
        if not status.isdigit() or int(status) >= 400:
            raise LabError(f"POST {url} in a pod of {service} answered {status}: {text[:300]}")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise LabError(f"POST {url} in a pod of {service}: not JSON: {text[:200]!r}") from exc

    def http(
        self,
        service: str,
        port: int,
        path: str,
        *,
        method: str = "GET",
        body: Any = None,
        timeout_s: float = 10.0,
    ) -> tuple[int, Any]:
        """``curl -X METHOD localhost:<port><path>`` from inside a ready pod of ``service``
        (``kubectl exec ... curl``): (status, the JSON body, or the text). Status 0: curl got
        no answer (refused, timed out)."""
        import json

        url = f"http://127.0.0.1:{port}{path}"
        argv = ["curl", "-s", "-m", f"{timeout_s:g}", "-X", method, "-w", "\\n%{http_code}"]
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
        output = self.exec(service, [*argv, url], check=False).output
        text, _, status = output.rstrip().rpartition("\n")
        code = int(status) if status.isdigit() else 0
        try:
            return code, json.loads(text)
        except ValueError:
            return code, text

    def logs(self, service: str, *, tail: int = 2000) -> str:
        """``kubectl logs deploy/<service>``: the first ready pod's recent output."""
        if not self.real_nodes():
            raise NeedsRealNode(f"logs of {service}: the nodes are simulated (kwok)")
        out = self._core().read_namespaced_pod_log(
            self.pod(service), self.lab.namespace, tail_lines=tail, timestamps=True
        )
        return str(out)

    def sql(
        self, query: str, params: Sequence[Any] | None = None, *, service: str = "postgres"
    ) -> list[tuple[str | None, ...]]:
        """``query`` through ``psql`` in the ``service`` pod (``kubectl exec ... psql -c``): the
        rows as text (NULL as None). ``params`` fill ``%s`` places as SQL literals."""
        if not self.real_nodes():
            raise NeedsRealNode("SQL: PostgreSQL does not run on simulated (kwok) nodes")
        text = _bind(query, params or ())
        argv = [
            "psql", "-U", "postgres", "-d", "trading_bot", "-X", "-q", "-A", "-t",
            "-v", "ON_ERROR_STOP=1", "-F", "\x1f", "-P", "null=\x1e", "-c", text,
        ]  # fmt: skip
        out = self.exec(service, argv).output
        rows: list[tuple[str | None, ...]] = []
        for line in out.split("\n"):  # not splitlines(): it splits at the NULL mark \x1e too
            if line:
                rows.append(tuple(None if v == "\x1e" else v for v in line.split("\x1f")))
        return rows

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


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _bind(query: str, params: Sequence[Any]) -> str:
    """``query`` with each ``%s`` replaced by the next parameter as a SQL literal (standard
    strings: a quote doubled), ``%%`` as ``%``; a count mismatch is a ValueError."""
    parts = query.replace("%%", "\0").split("%s")
    if len(parts) - 1 != len(params):
        raise ValueError(f"SQL has {len(parts) - 1} %s place(s) for {len(params)} parameter(s)")
    out = parts[0]
    for value, rest in zip(params, parts[1:], strict=True):
        out += _literal(value) + rest
    return out.replace("\0", "%")

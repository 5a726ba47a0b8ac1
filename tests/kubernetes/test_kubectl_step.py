"""A runbook's kubectl line as a drill step: each supported form calls the platform verb it
means with the arguments it names, each refused form is refused when the step is built (the
command and the supported forms in the message), a foreign namespace when it runs. A fake
platform records the calls; no cluster needed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from drillbook.environments.kubernetes import (
    KubernetesPlatform,
    NeedsRealNode,
    _kubectl,
    kubectl_step,
)
from drillbook.environments.kubernetes._kubectl_argv import parse_kubectl
from drillbook.errors import LabError

MANIFESTS = Path(__file__).resolve().parents[2] / "fixtures" / "k8s"


class FakeLab:
    name = "drillbook-test/trading-bot"
    namespace = "trading-bot"
    manifests = MANIFESTS
    api = object()

    def workloads(self) -> list[tuple[str, str, Any]]:
        return [
            ("Deployment", "backend", None),
            ("Deployment", "frontend", None),
            ("StatefulSet", "postgres", None),
        ]


class FakePlatform:
    """Each verb a step may call, recorded as (verb, args, kwargs)."""

    def __init__(self) -> None:
        self.lab = FakeLab()
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, verb: str) -> Any:
        if verb.startswith("_"):
            raise AttributeError(verb)

        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((verb, args, kwargs))
            return f"{verb} done"

        return record


class RealNodeless(FakePlatform):
    def logs(self, service: str, *, tail: int = 2000) -> str:
        raise NeedsRealNode(f"logs of {service}: the nodes are simulated (kwok)")


def run(command: str, platform: FakePlatform | None = None) -> FakePlatform:
    platform = platform or FakePlatform()
    kubectl_step(command, manifests=MANIFESTS)(cast(KubernetesPlatform, platform))
    return platform


@pytest.mark.parametrize(
    ("command", "calls"),
    [
        ("kubectl rollout restart deployment/backend", [("restart", ("backend",), {})]),
        ("kubectl rollout restart deployment backend", [("restart", ("backend",), {})]),
        ("kubectl rollout restart statefulset/postgres", [("restart", ("postgres",), {})]),
        (
            "kubectl rollout restart deploy/backend deploy/frontend",
            [("restart", ("backend",), {}), ("restart", ("frontend",), {})],
        ),
        (
            "kubectl rollout undo deployment/backend",
            [("rollout_undo", ("backend",), {"timeout_s": 120})],
        ),
        (
            "kubectl rollout status deployment/backend --timeout=2m",
            [("wait_rollout", ("backend", 120.0), {})],
        ),
        (
            "kubectl rollout status deployment/backend --timeout 1m30s",
            [("wait_rollout", ("backend", 90.0), {})],
        ),
        ("kubectl scale deployment/backend --replicas=3", [("scale", ("backend", 3), {})]),
        ("kubectl scale statefulset postgres --replicas 0", [("scale", ("postgres", 0), {})]),
        (
            "kubectl set env deployment/backend LOG_LEVEL=debug OLD-",
            [("set_env", ("backend", {"LOG_LEVEL": "debug", "OLD": None}), {})],
        ),
        (
            "kubectl set env deployment backend 'MSG=a b=c' OLD-",
            [("set_env", ("backend", {"MSG": "a b=c", "OLD": None}), {})],
        ),
        ("kubectl delete pod -l app=backend", [("delete_pod", ("backend",), {})]),
        ("kubectl delete pods --selector=app=postgres", [("delete_pod", ("postgres",), {})]),
        (
            "kubectl apply -f k8s/network-policies.yaml",
            [("apply_manifest", ("network-policies.yaml",), {})],
        ),
        ("kubectl logs deployment/backend --tail=50", [("logs", ("backend",), {"tail": 50})]),
        ("kubectl logs -l app=backend", [("logs", ("backend",), {"tail": 2000})]),
        (
            "kubectl exec deploy/postgres -- psql -c 'select 1'",
            [("exec", ("postgres", ["psql", "-c", "select 1"]), {})],
        ),
        ("kubectl cordon kwok-node-1", [("cordon", ("kwok-node-1",), {"on": True})]),
        ("kubectl uncordon node/kwok-node-1", [("cordon", ("kwok-node-1",), {"on": False})]),
        (
            "kubectl drain kwok-node-1 --ignore-daemonsets --delete-emptydir-data",
            [("drain", ("kwok-node-1",), {"timeout_s": 60})],
        ),
        (
            "kubectl -n trading-bot scale deployment/backend --replicas=2",
            [("scale", ("backend", 2), {})],
        ),
        (
            "kubectl scale deployment/backend --replicas=2 --namespace=trading-bot",
            [("scale", ("backend", 2), {})],
        ),
    ],
)
def test_each_form_calls_its_verb(command: str, calls: list[Any]) -> None:
    assert run(command).calls == calls


def test_a_named_pod_is_deleted_through_the_api_then_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deleted: list[tuple[list[str], int | None]] = []
    monkeypatch.setattr(
        _kubectl, "delete_pods", lambda _p, names, grace: deleted.append((names, grace))
    )
    platform = run("kubectl delete pod backend-7d9f-abcde --grace-period=0 --force")
    assert deleted == [(["backend-7d9f-abcde"], 0)]
    assert platform.calls == [("wait_ready", (), {})]


def test_get_and_describe_save_one_line_per_object(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, list[str], str | None]] = []

    def pods(_platform: Any, kind: str, names: list[str], selector: str | None) -> list[Any]:
        asked.append((kind, names, selector))
        ready = SimpleNamespace(ready=True, restart_count=2)
        return [
            SimpleNamespace(
                metadata=SimpleNamespace(name="backend-abc"),
                spec=SimpleNamespace(containers=[object()], node_name="kwok-node-0"),
                status=SimpleNamespace(phase="Running", container_statuses=[ready]),
            )
        ]

    monkeypatch.setattr(_kubectl, "list_objects", pods)
    platform = run("kubectl get pods -l app=backend -o wide")
    assert asked == [("Pod", [], "app=backend")]
    assert platform.calls == [
        (
            "save_evidence",
            (
                "kubectl-get-pod-app-backend.txt",
                "backend-abc Running 1/1 ready, 2 restarts, node kwok-node-0\n",
            ),
            {},
        )
    ]

    def deployments(_p: Any, kind: str, names: list[str], _s: str | None) -> list[Any]:
        asked.append((kind, names, _s))
        return [
            SimpleNamespace(
                metadata=SimpleNamespace(name=name),
                spec=SimpleNamespace(replicas=2),
                status=SimpleNamespace(ready_replicas=1),
            )
            for name in names
        ]

    monkeypatch.setattr(_kubectl, "list_objects", deployments)
    platform = run("kubectl describe deployment backend")
    assert asked[-1] == ("Deployment", ["backend"], None)
    assert platform.calls == [
        ("save_evidence", ("kubectl-describe-deployment-backend.txt", "backend 1/2 ready\n"), {})
    ]


def test_an_empty_listing_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_kubectl, "list_objects", lambda *_a: [])
    platform = run("kubectl get pvc")
    assert platform.calls == [
        (
            "save_evidence",
            ("kubectl-get-persistentvolumeclaim.txt", "no PersistentVolumeClaim found\n"),
            {},
        )
    ]


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("kubectl get nodes", "kubectl-get-node.txt"),
        ("kubectl get events --sort-by=.lastTimestamp", "kubectl-get-event.txt"),
        ("kubectl get pods -l 'app in (a,b)'", "kubectl-get-pod-app-in-a-b.txt"),
        ("kubectl describe pod/../../etc/passwd", "kubectl-describe-pod-etc-passwd.txt"),
    ],
)
def test_evidence_names_are_safe_file_names(command: str, name: str) -> None:
    call = parse_kubectl(shlex.split(command))
    assert call is not None
    assert _kubectl.evidence_name(call) == name


def test_node_lines_name_readiness_and_cordon() -> None:
    node = SimpleNamespace(
        metadata=SimpleNamespace(name="kwok-node-1"),
        spec=SimpleNamespace(unschedulable=True),
        status=SimpleNamespace(conditions=[SimpleNamespace(type="Ready", status="True")]),
    )
    assert _kubectl.line("Node", node) == "kwok-node-1 Ready=True unschedulable"


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("kubectl get pods | grep backend", "one kubectl command per step"),
        ("kubectl rollout restart deployment/backend && kubectl get pods", "one kubectl command"),
        ("kubectl get pods; kubectl get svc", "one kubectl command per step"),
        ("kubectl delete pod $(kubectl get pods -o name)", "one kubectl command per step"),
        ("kubectl logs deployment/backend > out.txt", "one kubectl command per step"),
        ("kubectl delete pod <backend-pod>", "<backend-pod> is a placeholder"),
        ("kubectl delete pod $POD", "shell variables are not expanded"),
        ("helm upgrade backend", "starts with `kubectl`"),
        ("kubectl", "no verb"),
        ("kubectl get pods 'unclosed", "not a command line"),
        ("kubectl --context prod rollout restart deployment/backend", "--context"),
        ("kubectl get pods --kubeconfig=/tmp/k", "--kubeconfig"),
        ("kubectl get pods -A", "-A: a step acts on the lab's namespace only"),
        ("kubectl get pods --all-namespaces", "--all-namespaces"),
        ("kubectl exec -it deploy/backend -- sh", "interactive"),
        ("kubectl exec -i deploy/backend -- sh", "interactive"),
        ("kubectl delete deployment backend", "delete of Deployment: a step deletes pods only"),
        ("kubectl delete pvc data-postgres-0", "a step deletes pods only"),
        ("kubectl delete pod backend-x -l app=backend", "not both"),
        ("kubectl delete pod -l tier=web", "only -l app=NAME"),
        ("kubectl delete pod", "name a pod"),
        ("kubectl edit deployment backend", "verb 'edit' is not supported"),
        ("kubectl port-forward svc/frontend 8080:80", "verb 'port-forward' is not supported"),
        ("kubectl cp backend-x:/tmp/a /tmp/a", "verb 'cp' is not supported"),
        ("kubectl patch deployment backend -p {}", "verb 'patch' is not supported"),
        ("kubectl rollout pause deployment/backend", "rollout pause is not supported"),
        ("kubectl rollout undo statefulset/postgres", "takes a Deployment here"),
        ("kubectl rollout undo deployment/backend --to-revision=2", "flag --to-revision"),
        ("kubectl rollout restart deployment", "name the Deployment or StatefulSet"),
        ("kubectl rollout restart service/backend", "Service backend: rollout takes"),
        ("kubectl rollout status deployment/backend --timeout=soon", "--timeout=soon"),
        ("kubectl scale deployment/backend", "--replicas=: give a whole number"),
        ("kubectl scale deployment/backend --replicas=-1", "--replicas=-1"),
        ("kubectl scale deployment/backend --replicas=2 --dry-run=client", "flag --dry-run"),
        ("kubectl set image deployment/backend backend=x:1", "set image is not supported"),
        ("kubectl set env deployment/backend", "none given"),
        ("kubectl set env deployment/backend --from=secret/x", "flag --from"),
        ("kubectl set env deployment/backend 1BAD=x", "set env takes KEY=VALUE or KEY-"),
        ("kubectl apply -f k8s/not-there.yaml", "not-there.yaml is not one of the lab's"),
        ("kubectl apply -f -", "apply a manifest file of the lab"),
        ("kubectl apply -f https://example.com/x.yaml", "apply a manifest file of the lab"),
        ("kubectl apply -k overlays/lab", "flag -k"),
        ("kubectl apply", "apply takes one -f FILE"),
        ("kubectl get secrets", "Secret: not a kind a step reads"),
        ("kubectl get all", "name one kind"),
        ("kubectl get pods -w", "flag -w"),
        ("kubectl get pod backend-x -l app=backend", "not both"),
        ("kubectl logs -f deployment/backend", "flag -f"),
        ("kubectl logs deployment/backend --tail=all", "--tail=all"),
        ("kubectl logs svc/backend", "name a pod or a workload"),
        ("kubectl exec deploy/backend", "give the command after --"),
        ("kubectl drain kwok-node-1 --force", "flag --force"),
        ("kubectl cordon", "name one node"),
    ],
)
def test_refused_forms_name_the_command_and_what_is_supported(command: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"kubectl step {command!r}")) as raised:
        kubectl_step(command, manifests=MANIFESTS)
    message = str(raised.value)
    assert f"kubectl step {command!r}" in message
    assert reason in message
    assert "supported: rollout restart|undo|status" in message


def test_apply_of_any_file_name_is_checked_at_run_time_without_manifests() -> None:
    step = kubectl_step("kubectl apply -f elsewhere/missing.yaml")  # builds: no manifests given
    with pytest.raises(LabError, match=r"missing.yaml is not one of the lab's manifests"):
        step(cast(KubernetesPlatform, FakePlatform()))


def test_manifests_may_be_the_files_of_a_project() -> None:
    files = (MANIFESTS / "backend.yaml",)
    kubectl_step("kubectl apply -f backend.yaml", manifests=files)
    with pytest.raises(ValueError, match=r"redis.yaml is not one of the lab's manifests"):
        kubectl_step("kubectl apply -f redis.yaml", manifests=files)


def test_a_namespace_not_the_labs_is_refused_when_the_step_runs() -> None:
    step = kubectl_step("kubectl -n default rollout restart deployment/backend")
    platform = FakePlatform()
    with pytest.raises(LabError, match=r"namespace 'default' is not the lab's \('trading-bot'\)"):
        step(cast(KubernetesPlatform, platform))
    assert platform.calls == []


def test_a_kind_not_the_workloads_is_refused_when_the_step_runs() -> None:
    step = kubectl_step("kubectl scale statefulset/backend --replicas=1")
    platform = FakePlatform()
    with pytest.raises(LabError, match=r"no StatefulSet 'backend'"):
        step(cast(KubernetesPlatform, platform))
    assert platform.calls == []


def test_needs_real_node_propagates() -> None:
    step = kubectl_step("kubectl logs deployment/backend")
    with pytest.raises(NeedsRealNode, match="simulated"):
        step(cast(KubernetesPlatform, RealNodeless()))


def test_the_step_names_its_command() -> None:
    assert repr(kubectl_step("kubectl get pods")) == "kubectl_step('kubectl get pods')"

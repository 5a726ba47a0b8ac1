"""The local control plane is a real Kubernetes: the API server answers with its version, the
scheduler and controllers run (a Deployment's pods land on kwok nodes and turn Running), the
runbook's manifests pass a server-side dry-run, and `down` leaves no process behind, alive or
a zombie."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.kubernetes

K8S = Path(__file__).resolve().parents[2] / "fixtures" / "k8s"


def test_the_api_server_is_kubernetes_1_34_with_ready_kwok_nodes(api: Any) -> None:
    from kubernetes import client

    version = client.VersionApi(api).get_code()
    assert version.git_version.startswith("v1.34.")
    nodes = client.CoreV1Api(api).list_node().items
    assert len(nodes) == 3
    for node in nodes:
        ready = {c.type: c.status for c in node.status.conditions or []}
        assert ready.get("Ready") == "True", node.metadata.name


def test_the_manifests_pass_a_server_side_dry_run(api: Any) -> None:
    from kubernetes import client, utils

    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    docs = [d for p in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    namespace = next(d for d in docs if d["kind"] == "Namespace")
    if not core.list_namespace(field_selector="metadata.name=trading-bot").items:
        utils.create_from_dict(api, namespace)
    deadline = time.monotonic() + 30  # pods are admitted once its default account exists
    while not core.list_namespaced_service_account(
        "trading-bot", field_selector="metadata.name=default"
    ).items:
        assert time.monotonic() < deadline, "no default service account in trading-bot"
        time.sleep(0.2)
    before = len(apps.list_namespaced_deployment("trading-bot").items)
    checked = []
    for doc in docs:
        if doc["kind"] == "Namespace":
            continue
        utils.create_from_dict(api, doc, dry_run="All")  # raises FailToCreateError on refusal
        checked.append(f"{doc['kind']}/{doc['metadata']['name']}")
    assert "Deployment/backend" in checked
    assert "StatefulSet/postgres" in checked
    assert "NetworkPolicy" in " ".join(checked)
    # dry-run means dry: nothing was created
    assert len(apps.list_namespaced_deployment("trading-bot").items) == before


def test_a_bad_manifest_is_refused_by_the_server(api: Any) -> None:
    from kubernetes import utils

    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "broken", "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "y"}},  # does not match the selector
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    with pytest.raises(utils.FailToCreateError) as info:
        utils.create_from_dict(api, bad, dry_run="All")
    assert "selector" in str(info.value)


def test_a_deployment_is_scheduled_onto_kwok_nodes_and_runs(api: Any) -> None:
    from kubernetes import client

    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    name = "probe-workload"
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": "c", "image": "busybox"}],
                    "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists"}],
                },
            },
        },
    }
    apps.create_namespaced_deployment("default", body)
    try:
        deadline, running = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            pods = core.list_namespaced_pod("default", label_selector=f"app={name}").items
            running = [p for p in pods if p.status.phase == "Running" and p.spec.node_name]
            if len(running) == 2:
                break
            time.sleep(0.5)
        assert len(running) == 2, [(p.metadata.name, p.status.phase) for p in pods]
        assert all(p.spec.node_name.startswith("kwok-node-") for p in running)
    finally:
        apps.delete_namespaced_deployment(name, "default")


def test_down_stops_every_process_and_leaves_no_zombie(processes: Any) -> None:
    """Up and down in this process, a component crashing in between (SIGKILL): afterwards
    no process of the cluster is alive, and none is a zombie (exited and never reaped)."""
    import signal

    from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

    plane = ControlPlane(
        ControlPlaneBuild(default_cache()), name=f"tests-down-{os.getpid()}", nodes=1
    )
    plane.up(say=lambda _msg: None)
    try:
        state = plane.state()
        assert state is not None
        assert len(state.pids) == 5
        recorded = processes.record([state.supervisor, *state.pids.values()])
        assert len(recorded) == 6
        os.kill(state.pids["kube-scheduler"], signal.SIGKILL)  # a crash while it runs
        time.sleep(1)
        stopped = plane.down(quiet=True)
    finally:
        plane.down(quiet=True)
    assert len(stopped) == 4  # all but the crashed one
    left = processes.of(plane.root, recorded)
    assert left == [], "\n".join(map(str, left))
    assert not plane.root.exists()


def test_down_all_removes_every_cluster_a_killed_run_left(tmp_path: Path) -> None:
    """Clusters whose processes are gone (a test run killed with SIGKILL): `k8s down --all`
    removes each, in a cache of its own (never the clusters of this test session)."""
    import subprocess
    import sys

    from drillbook.environments.kubernetes import ControlPlaneState

    for name in ("ghost-1", "ghost-2"):
        root = tmp_path / "clusters" / name
        root.mkdir(parents=True)
        ControlPlaneState(name, pids={"etcd": 2**22 + 1}).save(root / "state.json")
    env = {**os.environ, "DRILLBOOK_K8S_CACHE": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "drillbook", "k8s", "down", "--all"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "2 cluster(s) ['ghost-1', 'ghost-2']" in result.stdout
    assert not list((tmp_path / "clusters").iterdir())

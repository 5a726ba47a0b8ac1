"""The real-node cluster (``drillbook k8s up --nodes real``): node containers whose kubelet and
containerd run the lab's images as real processes. A pod kill ends a process the node's kernel
ran, a memory limit ends in a real OOM kill, ``kubectl exec`` runs in the pod, a Service name
resolves through CoreDNS and routes through kube-proxy; ``down`` (also after a SIGKILL of ``up``)
leaves nothing in Docker or on the host."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drillbook.environments.kubernetes import (
    CLUSTER_LABEL,
    ControlPlaneBuild,
    KubernetesLab,
    KubernetesPlatform,
    RealCluster,
    default_cache,
)
from drillbook.faults.kubernetes import PodKill
from drillbook.waiting import Check, Wait

pytestmark = [pytest.mark.kubernetes, pytest.mark.real_nodes]

MANIFEST = Path(__file__).parent / "real_nodes" / "redis.yaml"
NAMESPACE = "real-nodes-test"
DRILLBOOK = [sys.executable, "-m", "drillbook"]


def _docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=120, check=False
    )
    if check:
        assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def cluster() -> Iterator[RealCluster]:
    """Two real nodes for the module, with the Redis and Python lab images; always removed."""
    real = RealCluster(
        ControlPlaneBuild(default_cache()),
        name=f"tests-real-{os.getpid()}",
        nodes=2,
        images=("redis", "python"),
    )
    real.up(say=lambda _msg: None)
    try:
        yield real
    finally:
        real.down(quiet=True)


@pytest.fixture(scope="module")
def lab(cluster: RealCluster) -> Iterator[KubernetesLab]:
    lab = KubernetesLab(cluster.kubeconfig, namespace=NAMESPACE, manifests=(MANIFEST,))
    with lab:
        lab.start(timeout_s=120)
        try:
            yield lab
        finally:
            lab.stop()


def _pods(lab: KubernetesLab) -> list[Any]:
    from kubernetes import client

    core: Any = client.CoreV1Api(lab.api)
    return [
        p
        for p in core.list_namespaced_pod(NAMESPACE, label_selector="app=redis").items
        if p.metadata.deletion_timestamp is None
    ]


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _init_pid(cluster: RealCluster, pod: Any) -> int:
    """The pid, in its node, of the pod's container process (containerd's task record)."""
    container_id = pod.status.container_statuses[0].container_id.removeprefix("containerd://")
    task = f"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{container_id}/init.pid"
    node = cluster.container(pod.spec.node_name)
    return int(_docker("exec", node, "cat", task).strip())


def _process(cluster: RealCluster, node: str, pid: int) -> str:
    """The command line of ``pid`` in the node, empty when no such process runs."""
    out = _docker(
        "exec", cluster.container(node), "sh", "-c", f"tr '\\0' ' ' < /proc/{pid}/cmdline",
        check=False,
    )  # fmt: skip
    return out.strip()


def test_the_nodes_are_real_and_run_the_lab_image(cluster: RealCluster, lab: KubernetesLab) -> None:
    from kubernetes import client

    core: Any = client.CoreV1Api(lab.api)
    nodes = core.list_node().items
    assert sorted(n.metadata.name for n in nodes) == cluster.node_names()
    for node in nodes:
        assert node.status.node_info.container_runtime_version.startswith("containerd://")
        assert "kwok.x-k8s.io/node" not in (node.metadata.annotations or {})
    pods = _pods(lab)
    assert len(pods) == 2
    assert all(_ready(p) for p in pods)
    for pod in pods:
        pid = _init_pid(cluster, pod)
        assert "redis-server" in _process(cluster, pod.spec.node_name, pid)
    platform = KubernetesPlatform(lab)
    assert platform.real_nodes()
    result = platform.exec("redis", ["redis-cli", "ping"])
    assert (result.exit_code, result.output.strip()) == (0, "PONG")
    failed = platform.exec("redis", ["sh", "-c", "echo no >&2; exit 3"], check=False)
    assert (failed.exit_code, failed.output.strip()) == (3, "no")
    assert "Ready to accept connections" in platform.logs("redis")


def test_a_service_name_resolves_through_coredns_and_routes_through_kube_proxy(
    lab: KubernetesLab,
) -> None:
    platform = KubernetesPlatform(lab)
    fqdn = f"redis.{NAMESPACE}.svc.cluster.local"
    for host in (fqdn, "redis"):  # the search path of the pod's resolv.conf too
        result = platform.exec("redis", ["redis-cli", "-h", host, "ping"], check=False)
        assert result.output.strip() == "PONG", f"{host}: {result}"
    missing = platform.exec("redis", ["redis-cli", "-h", "no-such-service", "ping"], check=False)
    assert missing.exit_code != 0
    assert "PONG" not in missing.output


def test_a_pod_kill_ends_the_real_process_and_the_replicaset_replaces_it(
    cluster: RealCluster, lab: KubernetesLab
) -> None:
    before = {p.metadata.name: p for p in _pods(lab)}
    pids = {name: _init_pid(cluster, pod) for name, pod in before.items()}
    fault = PodKill("redis", qty=1)
    fault.inject(lab)
    assert len(fault._killed) == 1
    victim = before[fault._killed[0]]
    node, pid = victim.spec.node_name, pids[victim.metadata.name]
    # the process the node's kernel ran is gone
    Wait(30, poll_s=0.5).until(
        lambda: Check("redis-server" not in _process(cluster, node, pid), f"pid {pid} runs"),
        f"the killed pod's process (pid {pid} on {node}) to end",
    )

    def replaced() -> Check:
        fresh = [p for p in _pods(lab) if p.metadata.uid != victim.metadata.uid and _ready(p)]
        return Check(len(fresh) == 2, f"{len(fresh)} ready pod(s) besides the killed one")

    Wait(90, poll_s=0.5).until(replaced, "the ReplicaSet to replace the killed pod")
    after = _pods(lab)
    assert victim.metadata.uid not in {p.metadata.uid for p in after}
    new_ids = {p.status.container_statuses[0].container_id for p in after}
    assert victim.status.container_statuses[0].container_id not in new_ids
    # the survivor's process was never touched
    (survivor,) = [n for n in before if n != victim.metadata.name]
    assert "redis-server" in _process(cluster, before[survivor].spec.node_name, pids[survivor])
    assert not fault.verify_active(lab).ok


def test_a_memory_limit_ends_in_a_real_oom_kill(lab: KubernetesLab) -> None:
    from kubernetes import client

    core: Any = client.CoreV1Api(lab.api)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "oom", "namespace": NAMESPACE},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "hog",
                    "image": "drillbook/python:lab",
                    "imagePullPolicy": "Never",
                    "command": ["python3", "-c", "x = bytearray(256 * 2**20); print(len(x))"],
                    "resources": {"limits": {"memory": "48Mi"}},
                }
            ],
        },
    }
    core.create_namespaced_pod(NAMESPACE, pod)
    try:

        def terminated() -> Check:
            statuses = core.read_namespaced_pod("oom", NAMESPACE).status.container_statuses
            state = statuses[0].state.terminated if statuses else None
            return Check(state is not None, f"state {statuses[0].state if statuses else None}")

        Wait(60, poll_s=0.5).until(terminated, "the memory hog to be ended")
        state = core.read_namespaced_pod("oom", NAMESPACE).status.container_statuses[0]
        assert (state.state.terminated.reason, state.state.terminated.exit_code) == (
            "OOMKilled",
            137,
        )
    finally:
        core.delete_namespaced_pod("oom", NAMESPACE, grace_period_seconds=0)


def _left(name: str) -> list[str]:
    """Everything in Docker labelled as the cluster's, and host interfaces of its network."""
    found = []
    for kind in (["ps", "-a"], ["volume", "ls"], ["network", "ls"]):
        out = _docker(*kind, "-q", "--filter", f"label={CLUSTER_LABEL}={name}")
        found += [f"{kind[0]}:{x}" for x in out.split()]
    return found


def test_down_after_a_sigkill_of_up_leaves_nothing(tmp_path: Path) -> None:
    """``k8s up`` killed with SIGKILL once its node container exists, then ``k8s down``: no
    container, volume or network of the cluster, no bridge left on the host."""
    name = f"tests-kill-{os.getpid()}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    bridges_before = set(os.listdir("/sys/class/net"))
    up = subprocess.Popen(
        [*DRILLBOOK, "k8s", "up", "--nodes", "real", "--count", "1", "--name", name],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        Wait(120, poll_s=0.2).until(
            lambda: Check(any(k.startswith("ps:") for k in _left(name)), "no node container yet"),
            "the node container of the cluster being started",
        )
        time.sleep(3)  # into its set-up: files written, containerd starting
    finally:
        up.send_signal(signal.SIGKILL)
        up.wait(10)
    assert _left(name), "nothing was created before the kill: the test proves nothing"
    done = subprocess.run(
        [*DRILLBOOK, "k8s", "down", "--name", name],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert _left(name) == []
    new_interfaces = set(os.listdir("/sys/class/net")) - bridges_before
    assert not new_interfaces, f"left on the host: {sorted(new_interfaces)}"
    assert not (default_cache() / "clusters" / name).exists()

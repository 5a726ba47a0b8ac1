"""The real-node cluster (``drillbook k8s up --nodes real``): node containers whose kubelet and
containerd run the lab's images as real processes. A pod kill ends a process the node's kernel
ran, a memory limit ends in a real OOM kill, ``kubectl exec`` runs in the pod, a Service name
resolves through CoreDNS and routes through kube-proxy; ``down`` (also after a SIGKILL of ``up``)
leaves nothing in Docker or on the host.

The trading stack (fixtures/k8s) runs on the same cluster: the backend trades through the fake
exchange's pod into PostgreSQL's, NetworkPolicy cuts real packets (drillbook's node agent), the
claim is provisioned by the agent and keeps its data across a pod kill, and the Kubernetes
drills of the catalogue pass there, their sabotaged variants breach. One cluster for the file
(the suite runs a file per worker)."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drillbook.drills import Step, default_runbook
from drillbook.drills.kubernetes import kubernetes_drills
from drillbook.environments.kubernetes import (
    CLUSTER_LABEL,
    ControlPlaneBuild,
    KubernetesLab,
    KubernetesPlatform,
    RealCluster,
    default_cache,
    real_clusters_left,
)
from drillbook.faults.kubernetes import PodKill
from drillbook.sla import Profile
from drillbook.waiting import Check, Wait
from support.lab_findings import LAB_FINDINGS
from support.labtools import kubernetes_runner, run_harmful, run_sabotaged

pytestmark = [pytest.mark.kubernetes, pytest.mark.real_nodes]

MANIFEST = Path(__file__).parent / "real_nodes" / "redis.yaml"
RUNBOOK = Path(__file__).resolve().parents[2] / "fixtures" / "operational-runbooks.md"
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
    """Two real nodes for the module, with every lab image and the stack's; always removed."""
    real = RealCluster(
        ControlPlaneBuild(default_cache()), name=f"tests-real-{os.getpid()}", nodes=2
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


def test_the_nodes_are_real_and_run_the_lab_image(
    cluster: RealCluster, lab: KubernetesLab, tmp_path: Path
) -> None:
    from kubernetes import client

    # found by its cache's label, and only by it: `k8s down --all` with another cache (a test's)
    # must not take this cluster away
    assert cluster.name in real_clusters_left(default_cache())
    assert cluster.name not in real_clusters_left(tmp_path)

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

        def pong(host: str = host) -> Check:
            result = platform.exec("redis", ["redis-cli", "-h", host, "ping"], check=False)
            return Check(result.output.strip() == "PONG", f"{host}: {result}")

        # kube-proxy writes a Service's rules when its endpoints reach it, a moment after the
        # pods are Ready (until then the Service refuses): bounded, then it must answer
        Wait(30, poll_s=0.5).until(pong, f"{host}:6379 to answer through kube-proxy")
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
    left = _left(name)
    assert left, "nothing was created before the kill: the test proves nothing"
    # the host side of the cluster's network: its bridge and the node containers' veths on it
    # (other tests' containers come and go meanwhile: only the cluster's are looked at)
    bridges = [f"br-{obj.split(':', 1)[1][:12]}" for obj in left if obj.startswith("network:")]
    on_host = [
        f"{bridge}/{port}"
        for bridge in bridges
        if os.path.isdir(f"/sys/class/net/{bridge}/brif")
        for port in os.listdir(f"/sys/class/net/{bridge}/brif")
    ]
    assert bridges, f"no network of the cluster among {left}"
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
    still = [b for b in bridges if os.path.exists(f"/sys/class/net/{b}")]
    still += [p for p in on_host if os.path.exists(f"/sys/class/net/{p.split('/')[1]}")]
    assert not still, f"left on the host: {still} (the cluster's bridge and veths: {on_host})"
    assert not (default_cache() / "clusters" / name).exists()


# -- the trading stack on the real nodes ------------------------------------------------------
CATALOG = {d.name: d for d in kubernetes_drills(default_runbook())}
PROFILE = Profile("k8s-real", limits={"time_to_recover": 90}, settle_s=1.0)
STRICT = Profile("sabotage", limits={"time_to_recover": 6}, settle_s=1.0)


@pytest.fixture(scope="module")
def stack(cluster: RealCluster) -> Iterator[KubernetesLab]:
    """fixtures/k8s applied to the real nodes (namespace trading-bot), every pod Ready by its
    own readiness probe; removed with the module."""
    lab = KubernetesLab(cluster.kubeconfig)
    with lab:
        lab.start(timeout_s=240)
        try:
            yield lab
        finally:
            lab.stop()


def test_the_alert_pipeline_runs_in_the_cluster(stack: KubernetesLab) -> None:
    """Prometheus, Alertmanager and the responder run in trading-bot-monitoring with the
    Docker lab's settings and the team's rules; each backend replica is a target of its own;
    the PostgreSQL exporter gets through the team's policies; the stack at rest is quiet."""
    from drillbook.detection import Detection
    from drillbook.environments.monitoring import MonitoringSettings

    detection = Detection.for_kubernetes(stack)
    settings = MonitoringSettings()
    timing = detection.timing()
    assert timing.scrape_interval_s == settings.scrape_interval_s
    assert timing.group_wait_s == settings.group_wait_s
    rules = {r.rule.name: r for r in detection.rules()}
    assert {"TradingBotDown", "DatabaseDown", "ExchangeConnectionLost", "HighRiskExposure"} <= set(
        rules
    )
    assert all(r.health == "ok" for r in rules.values()), rules

    def three_targets() -> Check:  # found by DNS: CoreDNS' cache 5 s + a 1 s refresh
        up = [v for _, v in detection.query('up{job="backend"}')]
        return Check(up == [1.0, 1.0, 1.0], f"backend targets up: {up}")

    Wait(15, poll_s=0.5).until(three_targets, "a target per backend replica, each up")
    assert [v for _, v in detection.query("pg_up")] == [1.0]
    detection.wait_quiet(timeout_s=60)


def _health(platform: KubernetesPlatform) -> Any:
    """The backend's /health, from inside a ready backend pod (a 503 still has its body)."""
    return platform.get_json("backend", 8080, "/health", timeout_s=5)


def test_the_stack_trades_for_real(stack: KubernetesLab) -> None:
    """Every workload Ready by its probe; the backend's health (from inside its pod) sees
    PostgreSQL, Redis, RabbitMQ and both fake exchanges up; fills land in PostgreSQL."""
    platform = KubernetesPlatform(stack)
    assert platform.real_nodes()
    assert all(row.healthy for row in stack.status()), stack.status()
    deps = _health(platform)["dependencies"]
    assert set(deps) == {"postgres", "redis", "rabbitmq", "binance", "kucoin"}

    # RabbitMQ may still be starting when the backend is Ready (it is optional to it): the
    # backend reconnects by itself
    def all_up() -> Check:
        deps = _health(platform)["dependencies"]
        return Check(all(d["up"] for d in deps.values()), f"{deps}")

    Wait(90, poll_s=1).until(all_up, "the backend to see every dependency up")
    applied = platform.sql("SELECT count(*) FROM schema_migrations")
    assert int(applied[0][0] or 0) >= 1

    def filled() -> Check:
        rows = platform.sql("SELECT count(*) FROM trade_executions")
        return Check(int(rows[0][0] or 0) > 0, f"{rows[0][0]} executions")

    Wait(90, poll_s=1).until(filled, "a fill from the fake exchange recorded in PostgreSQL")
    assert platform.sql("SELECT %s::text, %s::int", ("it's", 3)) == [("it's", "3")]


def test_network_policy_cuts_real_packets_and_the_heal_restores_them(
    stack: KubernetesLab,
) -> None:
    """postgres-ingress refuses the frontend for real; the partition (backend egress denied)
    makes a new TCP connect from a backend pod to PostgreSQL fail; the revert heals it."""
    from drillbook.faults.kubernetes import PolicyPartition

    platform = KubernetesPlatform(stack)
    ok, why = platform.connects("frontend", "postgres", 5432)
    assert not ok, f"postgres-ingress let the frontend in: {why}"
    ok, why = platform.connects("backend", "postgres", 5432)
    assert ok, why
    fault = PolicyPartition()
    fault.inject(stack)
    try:

        def cut() -> Check:
            connected, how = platform.connects("backend", "postgres", 5432)
            return Check(not connected, how)

        Wait(15, poll_s=0.5).until(
            cut, "a TCP connect from the backend to PostgreSQL to fail under the partition"
        )
        assert not platform.connects("backend", "exchange", 8101)[0]
    finally:
        fault.revert(stack)
    Wait(15, poll_s=0.5).until(
        lambda: Check(*platform.connects("backend", "postgres", 5432)),
        "the backend to reach PostgreSQL again after the heal",
    )


def test_the_runbooks_backup_and_restore_run_in_the_pods(stack: KubernetesLab) -> None:
    """``kubectl create job --from=cronjob/postgres-backup restore-<ts>``, then in backup-pod
    ``restore.sh --list`` and ``restore.sh --file``: the job's backup is on the shared
    ``postgres-backups`` claim (before it, each job's backup died with its pod and backup-pod
    listed none), verified, and restores with data_integrity_check() empty."""
    import time

    from drillbook.drills._invariants import LEDGER
    from drillbook.faults.database import replay_exchange_fills
    from kubernetes import client

    platform = KubernetesPlatform(stack)
    job = platform.create_job_from_cronjob(
        "postgres-backup", f"restore-{int(time.time())}", wait_s=120
    )
    listing = platform.exec("backup-pod", ["/app/scripts/restore.sh", "--list"]).output
    newest = listing.split()[0]
    assert newest.startswith("/backups/scheduled-backup-"), listing
    assert listing.splitlines()[0].endswith("verified"), listing
    # writes stopped first, as the runbook's recoveries do (a bot trading through a restore
    # records fills the replay below then records again)
    platform.remember("backend")
    platform.scale("backend", 0)
    try:
        out = platform.exec("backup-pod", ["/app/scripts/restore.sh", "--file", newest]).output
        assert "data_integrity_check(): empty" in out, out
        assert platform.sql("SELECT count(*) FROM data_integrity_check()") == [("0",)]
        # the trades made since the backup are gone from the ledger: replayed from the
        # exchange's fills, as the runbook's Data Loss Recovery does, the lab is left as found
        replay_exchange_fills(stack)
        ledger = LEDGER.check(platform)
        assert ledger.ok, ledger.detail
    finally:
        platform.restore("backend")
        client.BatchV1Api(stack.api).delete_namespaced_job(
            job, stack.namespace, propagation_policy="Background"
        )


def test_the_claim_is_provisioned_and_postgres_keeps_its_data_across_a_pod_kill(
    stack: KubernetesLab,
) -> None:
    from kubernetes import client

    core: Any = client.CoreV1Api(stack.api)
    pvc = core.read_namespaced_persistent_volume_claim("postgres-pvc", stack.namespace)
    volume = core.read_persistent_volume(pvc.spec.volume_name)
    assert pvc.status.phase == "Bound"
    assert volume.metadata.annotations["pv.kubernetes.io/provisioned-by"] == (
        "drillbook.io/local-path"
    )
    platform = KubernetesPlatform(stack)
    marker = f"kept-{os.getpid()}"
    platform.sql("CREATE TABLE IF NOT EXISTS drill_marker (v text)")
    platform.sql("INSERT INTO drill_marker VALUES (%s)", (marker,))
    before = core.read_namespaced_pod("postgres-0", stack.namespace).metadata.uid
    fault = PodKill("postgres", qty=1)
    fault.inject(stack)

    def replaced() -> Check:
        # the pod itself, not the StatefulSet's status (which lags a kill)
        pods = core.list_namespaced_pod(stack.namespace, label_selector="app=postgres").items
        fresh = [p for p in pods if p.metadata.uid != before and _ready(p)]
        return Check(bool(fresh), f"pods: {[(p.metadata.uid, _ready(p)) for p in pods]}")

    Wait(120, poll_s=0.5).until(replaced, "a new postgres-0, Ready, in place of the killed one")
    assert platform.sql("SELECT v FROM drill_marker WHERE v = %s", (marker,)) == [(marker,)]
    platform.sql("DROP TABLE drill_marker")


def test_the_runbook_check_runs_the_sql_binaries_and_gets_in_the_pods(
    cluster: RealCluster, stack: KubernetesLab
) -> None:
    """``runbook check --env kubernetes`` on real nodes: the reference runbook's SQL through
    psql in the postgres pod, its programs looked up in the pods, its GETs sent inside them,
    with the findings the Docker lab gives (support.lab_findings, tests/checks/test_sql_lab.py);
    the writes land on a scratch copy, which is gone afterwards."""
    from drillbook.checks import CheckOptions, run_check

    platform = KubernetesPlatform(stack)
    email = f"check-{os.getpid()}@example.org"
    platform.sql("INSERT INTO users (email, password_hash) VALUES (%s, 'x')", (email,))
    indexes = platform.sql("SELECT count(*) FROM pg_indexes")
    try:
        options = CheckOptions(RUNBOOK, env="kubernetes", kubeconfig=str(cluster.kubeconfig))
        report = run_check(options)
        lab = {
            (f.line, f.code, f.subject)
            for f in report.findings
            if f.code.startswith(("sql.", "commands.binary-", "contract.http-"))
        }
        assert lab == LAB_FINDINGS
        assert "sql" in report.checks
        (error,) = [f for f in report.findings if f.code == "sql.undefined-column"]
        assert error.message.startswith("PostgreSQL 15.")
        assert error.message.endswith('ERROR: column "mean_time" does not exist (SQLSTATE 42703)')
        assert error.hint == (
            "pg_stat_statements has: mean_plan_time, mean_exec_time, min_plan_time"
        )
        assert any("through psql in pod postgres-0" in n for n in report.notes)
        # the backend is connected to trading_bot: copied with pg_dump, not as a template
        assert any("scratch copy drillbook_check_" in n and "pg_dump" in n for n in report.notes)
        # the runbook's UPDATE users SET password_reset_required and CREATE INDEX: not here
        assert platform.sql(
            "SELECT password_reset_required FROM users WHERE email = %s", (email,)
        ) == [("f",)]
        assert platform.sql("SELECT count(*) FROM pg_indexes") == indexes
        scratch = "SELECT datname FROM pg_database WHERE datname LIKE 'drillbook_check_%'"
        assert platform.sql(scratch) == []
    finally:
        platform.sql("DELETE FROM users WHERE email = %s", (email,))


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_the_kubernetes_drill_recovers_on_real_nodes(
    stack: KubernetesLab, name: str, tmp_path: Path
) -> None:
    drill = CATALOG[name]
    runner = kubernetes_runner(stack, PROFILE, tmp_path)
    result = runner.run(drill)
    result.raise_for_outcome()
    assert result.steady_after
    assert result.reverted
    # the alert is timed by the cluster's own Prometheus and Alertmanager, as on Docker
    alert_budgets = {b.measure for b in result.budgets} & {"time_to_alert", "time_to_clear"}
    if runner.alert_bound(drill) is not None:
        assert "time_to_alert" in result.measured, result.measured
        assert "time_to_alert" in alert_budgets
    else:  # healed before its rule can hold, or no rule (Data Loss): not awaited
        assert not alert_budgets
        assert not drill.alert_fires or drill.alert == "Data Loss"
    if name == "postgres-killed":
        assert "accepting connections" in (tmp_path / "pg_isready.txt").read_text()
        assert "pg_database_size" in (tmp_path / "pg_database_size.txt").read_text()
    if name == "backend-crash-loop":  # the kernel's OOM killer, seen as the runbook looks
        assert "OOMKilled (exit 137)" in (tmp_path / "describe-backend-pods.txt").read_text()
    if name == "high-risk-exposure":
        assert '"closed": [' in (tmp_path / "emergency-close.json").read_text()
    if name == "ledger-data-loss":  # restore.sh in backup-pod, then the exchange's fills
        scope = (tmp_path / "data-loss-scope.txt").read_text()
        assert "executions in the last hour:" in scope, scope
    if name == "node-not-ready":
        # a frozen kubelet reports nothing: the lifecycle controller says Unknown, not False
        assert "Ready=Unknown" in (tmp_path / "nodes.txt").read_text()
        drained = (tmp_path / "drain.txt").read_text()  # every namespace, as kubectl drain
        assert re.search(r": evicted .*\bbackend-", drained), drained
        health = (tmp_path / "backend-health.json").read_text()
        assert '"status": "ok"' in health  # the runbook's exec curl, run for real


# not backend-killed nor postgres-killed: on real nodes the controllers have new pods Ready
# within seconds whatever the runbook does; removing their remediation proves nothing, a
# harmful one must breach (below, with postgres-killed's data-loss variant); nor
# exchange-rate-limited (its 429s end by themselves after 12 s: its harmful variant is below)
@pytest.mark.parametrize(
    "name",
    [
        "backend-crash-loop",
        "postgres-claim-pending",
        "postgres-claim-over-quota",
        "exchanges-lost",
        "high-risk-exposure",
        "backend-policy-partitioned",
        "backend-bad-rollout",
        "node-not-ready",
        "ledger-data-loss",
    ],
)
def test_a_sabotaged_remediation_breaches_on_real_nodes(
    stack: KubernetesLab, name: str, tmp_path: Path
) -> None:
    run_sabotaged(stack, CATALOG[name], STRICT, tmp_path)


@pytest.mark.parametrize(
    ("name", "service"),
    [
        ("backend-killed", "backend"),
        ("postgres-killed", "postgres"),
        ("exchange-rate-limited", "backend"),
    ],
)
def test_a_harmful_remediation_of_a_self_healing_fault_breaches_on_real_nodes(
    stack: KubernetesLab, name: str, service: str, tmp_path: Path
) -> None:
    """Real pods killed, the controllers replace them whatever the runbook does (and the 429s
    end by themselves after 12 s): a wrong remediation (scale to 0) must breach, and the
    teardown brings the service back."""
    # the backend's own /health (exchange-rate-limited's probe) has no pod left to answer
    seen = "no ready or running pod" if name == "exchange-rate-limited" else "scaled to 0"
    run_harmful(stack, CATALOG[name], STRICT, tmp_path, service=service, seen=seen)


def test_a_remediation_that_loses_the_data_violates_the_invariant(
    stack: KubernetesLab, tmp_path: Path
) -> None:
    """postgres-killed with a remediation that loses the row written before the kill (a
    restore from a backup older than it): the drill fails naming the invariant."""
    from drillbook.drills.portable import MARKER
    from drillbook.errors import DrillbookError

    def restore_an_older_backup(platform: Any) -> None:
        platform.wait_ready("postgres", 300)
        platform.sql("DELETE FROM drillbook_marker WHERE drill = %s", (MARKER,))

    drill = dataclasses.replace(
        CATALOG["postgres-killed"],
        steps=(Step("restore a backup older than the row", restore_an_older_backup),),
    )
    result = kubernetes_runner(stack, PROFILE, tmp_path).run(drill)
    with pytest.raises(DrillbookError, match=r"survives on postgres-pvc.*data was lost"):
        result.raise_for_outcome()
    assert result.reverted

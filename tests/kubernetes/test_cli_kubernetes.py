"""`drillbook run --env kubernetes` and `drillbook list --env kubernetes` against the real
control plane: every Kubernetes drill, a report, no residue; `drillbook k8s up` and `down` in
two processes: no process left, alive or a zombie."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.labtools import cli_env, run_cli

pytestmark = pytest.mark.kubernetes

#: what runs on kwok nodes; the exchange drills need processes (real nodes only)
DRILLS = (
    "postgres-killed",
    "backend-killed",
    "postgres-claim-pending",
    "postgres-claim-over-quota",
    "backend-policy-partitioned",
    "backend-bad-rollout",
    "node-not-ready",
)
REAL_ONLY = ("exchange-rate-limited", "exchanges-lost")


def test_list_names_every_kubernetes_drill() -> None:
    result = run_cli("list", "--env", "kubernetes", timeout=60)
    assert result.returncode == 0, result.stderr
    for name in (*DRILLS, *REAL_ONLY):
        assert name in result.stdout


def test_run_on_kubernetes_writes_a_report_and_leaves_no_residue(
    control_plane: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "run",
        "--env",
        "kubernetes",
        "--kubeconfig",
        str(control_plane),
        "--report",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "residue: none" in result.stdout
    assert f"left out on simulated (kwok) nodes: {', '.join(REAL_ONLY)}" in result.stderr
    [run_dir] = list(tmp_path.glob("2*"))
    journal = json.loads((run_dir / "journal.json").read_text())
    drills = {d["drill"]: d for d in journal["drills"]}
    assert set(drills) == set(DRILLS)
    assert all(d["outcome"] == "passed" for d in drills.values())
    assert (run_dir / "junit.xml").exists()
    assert (run_dir / "evidence" / "rollout-history.txt").exists()


def test_run_refuses_a_context_outside_the_lab_before_writing_anything(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        'clusters: [{name: p, cluster: {server: "https://10.0.0.1"}}]\n'
        "contexts: [{name: prod-cluster, context: {cluster: p, user: u}}]\n"
        "users: [{name: u, user: {}}]\ncurrent-context: prod-cluster\n"
    )
    report = tmp_path / "reports"
    result = run_cli(
        "run",
        "--env",
        "kubernetes",
        "--kubeconfig",
        str(kubeconfig),
        "--report",
        str(report),
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing context 'prod-cluster': not a lab context" in result.stderr
    assert not report.exists()  # nothing written, nothing started, no request sent


#: a stand-in for a PID 1 that never reaps (a container whose entrypoint is `sleep infinity`
#: or a shell): a child subreaper, so what the commands it runs leave behind is reparented to
#: it, and it waits on nothing but those commands. It prints each command's result and runs
#: the next when a line comes on stdin; when stdin closes it exits, and the real PID 1 adopts
#: (and, on this machine, reaps) what it kept.
_NO_REAP_INIT = """
import ctypes, json, subprocess, sys
assert ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
for argv in json.loads(sys.argv[1]):
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    print(json.dumps([done.returncode, done.stdout, done.stderr[-3000:]]), flush=True)
    sys.stdin.readline()
"""


def test_k8s_up_then_down_in_two_processes_leaves_no_process_and_no_zombie(
    processes: Any,
) -> None:
    """`drillbook k8s up` exits and leaves the cluster to whatever adopts orphans; a second
    `drillbook k8s down` stops it. Run under a PID 1 that never reaps, the components are no
    zombies (their supervisor reaped them); the supervisor is the one zombie such a PID 1
    keeps (no design avoids it, see ``_supervisor``), and none is left with a PID 1 that reaps."""
    from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

    plane = ControlPlane(ControlPlaneBuild(default_cache()), name=f"tests-cli-{os.getpid()}")
    k8s = [sys.executable, "-m", "drillbook", "k8s"]
    commands = [
        [*k8s, "up", "--name", plane.name, "--nodes", "1"],
        [*k8s, "down", "--name", plane.name],
    ]
    init = subprocess.Popen(
        [sys.executable, "-c", _NO_REAP_INIT, json.dumps(commands)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert init.stdin is not None
    assert init.stdout is not None
    recorded: list[Any] = []
    try:
        code, _, err = json.loads(init.stdout.readline())
        assert code == 0, err
        state = plane.state()
        assert state is not None
        recorded = processes.record([state.supervisor, *state.pids.values()])
        assert len(recorded) == 6
        init.stdin.write("down\n")
        init.stdin.flush()
        code, out, err = json.loads(init.stdout.readline())
        assert code == 0, err
        assert "stopped kwok" in out
        left = processes.settled(plane.root, recorded, timeout_s=5)
        assert [p for p in left if p.pid != state.supervisor] == [], "\n".join(map(str, left))
        assert all(p.state == "Z" and p.ppid == init.pid for p in left), "\n".join(map(str, left))
    finally:
        init.stdin.close()
        init.wait(timeout=60)
        init.stdout.close()
        plane.down(quiet=True)  # when something above failed
    left = processes.settled(plane.root, recorded, timeout_s=10)
    assert left == [], "\n".join(map(str, left))

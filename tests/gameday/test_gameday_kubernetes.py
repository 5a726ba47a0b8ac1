"""`drillbook gameday --env kubernetes --rehearsal` on simulated (kwok) nodes: the command starts
its own local cluster, plays the Kubernetes quarterly plan (exchanges-lost left out: it needs
real nodes), writes drillbook run's report with env kubernetes recorded, and removes the cluster."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from support.labtools import DRILLBOOK, cli_env

pytestmark = pytest.mark.kubernetes

PLAN = Path(__file__).resolve().parents[2] / "drills" / "gameday" / "quarterly-kubernetes.yaml"
ON_KWOK = ("backend-killed", "postgres-killed", "backend-bad-rollout")


def test_a_rehearsal_on_kwok_nodes_reports_like_docker_and_removes_its_cluster(
    tmp_path: Path,
) -> None:
    from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

    name = f"tests-gameday-{os.getpid()}"  # its lock and its cluster: never another session's
    env = {k: v for k, v in cli_env().items() if k != "KUBECONFIG"}  # a cluster of its own
    try:
        result = subprocess.run(
            [*DRILLBOOK, "gameday", str(PLAN), "--env", "kubernetes", "--rehearsal",
             "--profile", "ci", "--name", name, "--report", str(tmp_path)],
            stdin=subprocess.DEVNULL,  # a prompt would read end of input and abort
            capture_output=True, text=True, timeout=300, env=env, check=False,
        )  # fmt: skip
    finally:
        plane = ControlPlane(ControlPlaneBuild(default_cache()), name=name)
        left = plane.state()
        plane.down(quiet=True)  # when the command failed to
    assert result.returncode == 0, result.stderr[-3000:]
    assert left is None  # the command removed the cluster it started
    assert "left out on simulated (kwok) nodes: exchanges-lost" in result.stderr
    assert "rehearsal: acknowledged by automation as on-call" in result.stderr
    assert "residue: none" in result.stdout
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (run / "index.html").is_file()  # the same report as on Docker
    assert (run / "junit.xml").is_file()
    assert json.loads((run / "residue.json").read_text()) == {"residue": []}
    journal = json.loads((run / "journal.json").read_text())
    section = journal["gameday"]
    assert (section["plan"], section["env"], section["rehearsal"]) == (
        "quarterly-kubernetes",
        "kubernetes",
        True,
    )
    assert section["left_out"] == ["exchanges-lost"]
    assert section["aborted"] is None
    assert [d["drill"] for d in journal["drills"]] == list(ON_KWOK)
    assert all(d["outcome"] == "passed" for d in journal["drills"])
    rollout = journal["drills"][2]
    actors = [(t["phase"], t["actor"]) for t in rollout["timeline"]]
    assert ("response_started", "automation as on-call") in actors
    assert [a for p, a in actors if p == "step_finished"] == ["automation"] * 3
    assert rollout["roles"]["platform-engineer"] == "Jordan"
    [line] = (tmp_path / "history.jsonl").read_text().splitlines()
    assert json.loads(line)["env"] == "kubernetes"

"""`drillbook run --env kubernetes` and `drillbook list --env kubernetes` against the real
control plane: every Kubernetes drill, a report, no residue."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.labtools import cli_env

pytestmark = pytest.mark.kubernetes

DRILLS = (
    "backend-pods-killed",
    "postgres-claim-pending",
    "postgres-claim-over-quota",
    "backend-policy-partitioned",
    "backend-bad-rollout",
    "node-not-ready",
)


def _drillbook(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
        check=False,
    )


def test_list_names_every_kubernetes_drill() -> None:
    result = _drillbook("list", "--env", "kubernetes", timeout=60)
    assert result.returncode == 0, result.stderr
    for name in DRILLS:
        assert name in result.stdout


def test_run_on_kubernetes_writes_a_report_and_leaves_no_residue(
    control_plane: Path, tmp_path: Path
) -> None:
    result = _drillbook(
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
    result = _drillbook(
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

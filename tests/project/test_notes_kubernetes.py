"""The notes project on Kubernetes (examples/notes/kubernetes): its manifests as the lab, its
kubectl runbook, its drills as data with ``env: kubernetes``. It loads without a cluster; on
the local control plane (simulated nodes) every drill passes through the runbook's own kubectl
lines, the step and the invariant that need a running pod say they were skipped, and the
sabotaged variant breaches time_to_recover naming the runbook's line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.faults.kubernetes import BadRollout, PodKill, PolicyPartition
from drillbook.project import kubernetes_lab, load_project, project_drills
from support.labtools import control_plane, run_cli

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "notes" / "kubernetes"
SABOTAGED = PROJECT / "sabotaged"


def test_the_kubernetes_project_loads_with_the_runbook_budgets() -> None:
    project = load_project(PROJECT)
    assert project.lab.envs == ("kubernetes",)
    assert project.lab.namespace == "notes"
    assert project.lab.services == ("api", "db", "cache")
    assert project_drills(project, "docker") == []
    drills = {d.name: d for d in project_drills(project, "kubernetes")}
    assert list(drills) == ["api-pods-killed", "api-cut-from-db", "api-bad-release"]
    assert drills["api-pods-killed"].fault == PodKill("api", qty=2)
    assert drills["api-cut-from-db"].fault == PolicyPartition(
        "api", "api-egress", (("db", 5432), ("cache", 6379))
    )
    assert drills["api-bad-release"].fault == BadRollout("api")
    assert [s.runbook for s in drills["api-pods-killed"].steps] == [
        "runbook.md:20",
        "runbook.md:26",
        "runbook.md:31",
        "runbook.md:36",
    ]
    budgets = {b.measure: b for b in drills["api-bad-release"].budgets}
    assert budgets["time_to_respond"].seconds == 300
    assert budgets["time_to_recover"].seconds == 120
    assert "runbook.md:85" in budgets["time_to_recover"].source  # its escalation line
    lab = kubernetes_lab(project, _kubeconfig_with("drillbook-x"))
    assert lab.namespace == "notes"
    assert [p.name for p in lab.manifest_files()] == ["notes.yaml", "network-policies.yaml"]


def _kubeconfig_with(context: str) -> Path:
    """A kubeconfig naming one lab context (nothing is sent to it: the lab is only built)."""
    import tempfile

    path = Path(tempfile.mkdtemp()) / "config"
    path.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "
        "'https://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n"
        f"- name: {context}\n  context: {{cluster: c, user: u}}\ncurrent-context: {context}\n"
    )
    return path


def _write(tmp_path: Path, drill: str) -> Path:
    project = tmp_path / "p"
    (project / "drills").mkdir(parents=True)
    for name in ("runbook.md", "manifests"):
        os.symlink(PROJECT / name, project / name)
    (project / "drillbook.yaml").write_text(
        "runbook: runbook.md\nlab:\n  manifests: [manifests/notes.yaml, "
        "manifests/network-policies.yaml]\ndrills: [drills/d.yaml]\n"
    )
    (project / "drills" / "d.yaml").write_text(drill)
    return project


@pytest.mark.parametrize(
    ("drill", "expected"),
    [
        (
            "name: d\nalert: NotesApiDown\nfault: {pod_kill: {app: web}}\nprobes: "
            "[{workload_ready: {app: api}}]\nsteps: [{name: s, kubectl: get pods}]\n",
            r"d\.yaml:3: fault\.pod_kill\.app: unknown service 'web'",
        ),
        (
            "name: d\nalert: NotesApiDown\nfault: {kill_container: {service: api}}\nprobes: "
            "[{workload_ready: {app: api}}]\nsteps: [{name: s, kubectl: get pods}]\n",
            r"d\.yaml:3: fault: unknown Kubernetes fault 'kill_container'",
        ),
        (
            "name: d\nalert: NotesApiDown\nfault: {pod_kill: {app: api}}\nprobes: "
            "[{workload_ready: {app: api}}]\nsteps:\n  - name: s\n    kubectl: port-forward "
            "svc/api 8080\n",
            r"d\.yaml:7: steps\[0\]\.kubectl: kubectl step 'kubectl port-forward",
        ),
        (
            "name: d\nalert: NotesApiDown\nenv: docker\nfault: {pod_kill: {app: api}}\n"
            "probes: []\nsteps: []\n",
            r"d\.yaml:3: env: the project's lab has no docker backend; it needs lab\.compose",
        ),
    ],
    ids=["unknown-app", "docker-fault", "kubectl-refused", "no-compose"],
)
def test_bad_kubernetes_drills_name_file_line_and_field(
    tmp_path: Path, drill: str, expected: str
) -> None:
    from drillbook.errors import ConfigError

    with pytest.raises(ConfigError, match=expected):
        load_project(_write(tmp_path, drill))


# -- on the local control plane -------------------------------------------------------------


@pytest.fixture(scope="module")
def plane() -> Iterator[Path]:
    with control_plane(f"notes-{os.getpid()}", nodes=2) as kubeconfig:
        yield kubeconfig


@pytest.mark.kubernetes
def test_the_kubernetes_project_runs_its_kubectl_runbook(plane: Path, tmp_path: Path) -> None:
    result = run_cli(
        "run", "--project", str(PROJECT), "--env", "kubernetes", "--kubeconfig", str(plane),
        "--report", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "residue: none" in result.stdout
    [run_dir] = list(tmp_path.glob("2*"))
    journal = json.loads((run_dir / "journal.json").read_text())
    assert journal["project"] == "notes-k8s"
    drills = {d["drill"]: d for d in journal["drills"]}
    assert set(drills) == {"api-pods-killed", "api-cut-from-db", "api-bad-release"}
    assert all(d["outcome"] == "passed" for d in drills.values()), drills
    text = json.dumps(drills["api-pods-killed"])
    # the exec and the SQL invariant need a running pod: said, never faked
    assert "skipped: exec in api" in text
    assert "invariants skipped: no note without a body" in text
    # `kubectl get pods -n notes -l app=api` and `get networkpolicy`, read through the API
    evidence = {p.name: p for p in (run_dir / "evidence").rglob("*") if p.is_file()}
    pods = evidence["kubectl-get-pod-app-api.txt"].read_text().splitlines()
    assert len(pods) >= 2
    assert all(line.startswith("api-") for line in pods), pods
    policies = evidence["kubectl-get-networkpolicy.txt"].read_text()
    assert "api-egress" not in policies  # read while the partition was in effect
    assert "db-ingress" in policies
    status = run_cli(
        "lab", "status", "--env", "kubernetes", "--project", str(PROJECT),
        "--kubeconfig", str(plane), timeout=60,
    )  # fmt: skip
    assert "api" not in status.stdout  # the run removed its namespace


@pytest.mark.kubernetes
def test_the_sabotaged_kubernetes_project_breaches_naming_the_line(
    plane: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "run", "--project", str(SABOTAGED), "--env", "kubernetes", "--kubeconfig", str(plane),
        "--report", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    out = result.stdout + result.stderr
    assert "time_to_recover" in out
    assert "runbook.md:85" in out  # the budget's runbook line (tightened to 30 s by the file)
    assert "last observed: api: every replica ready: 1/2 replicas ready" in out
    assert "over by" in out
    assert "residue: none" in result.stdout  # the fault was reverted all the same


def test_a_project_of_manifests_only_is_listed_for_kubernetes_without_env(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from drillbook.cli import main

    assert main(["list", "--project", str(PROJECT)]) == 0
    out = capsys.readouterr().out
    for name in ("api-pods-killed", "api-cut-from-db", "api-bad-release"):
        assert name in out
    assert main(["run", "--project", str(PROJECT), "--dry-run"]) == 0
    assert "dry run: 3 drill(s)" in capsys.readouterr().out

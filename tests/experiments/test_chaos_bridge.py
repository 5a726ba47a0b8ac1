"""The Chaos Toolkit bridge: discovery, `chaos validate`, real `chaos run`s, journal conversion."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from chaoslib.exceptions import ActivityFailed

from drillbook.environments.docker import DockerLab
from drillbook.experiments import convert_chaos_journal, discover
from drillbook.experiments.probes import service_healthy
from support.labtools import DRILLBOOK, cli_env

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))
CHAOS = str(Path(__import__("sys").executable).with_name("chaos"))


def test_discover_lists_actions_and_probes() -> None:
    found = discover()
    names = {(a["type"], a["name"]) for a in found["activities"]}
    assert ("action", "kill_container") in names
    assert ("action", "restart_service") in names
    assert ("probe", "service_healthy") in names
    assert ("probe", "wait_for_alert") in names
    assert found["extension"]["name"] == "drillbook"


def test_activities_fail_as_chaos_toolkit_expects() -> None:
    with pytest.raises(ActivityFailed, match="lab 'no-such-lab' is not up"):
        service_healthy("backend", configuration={"drillbook_lab": "no-such-lab"})


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_chaos_validate(path: Path) -> None:
    out = subprocess.run(
        [CHAOS, "--no-log-file", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "experiment syntax and semantic look valid" in out.stdout + out.stderr


def test_there_are_experiments() -> None:
    assert len(EXPERIMENTS) >= 2


def test_every_drill_has_its_experiment_in_sync() -> None:
    """experiments/<drill>.yaml exists for every drill of the catalogue and matches it."""
    from drillbook.drills import default_runbook
    from drillbook.drills.catalog import docker_drills

    names = {p.stem for p in EXPERIMENTS}
    assert {d.name for d in docker_drills(default_runbook())} <= names
    out = subprocess.run(
        [*DRILLBOOK, "experiments", "export", "--check", "--dir", str(ROOT / "experiments")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=cli_env(),
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_an_experiment_out_of_date_is_named(tmp_path: Path) -> None:
    (tmp_path / "backend-killed.yaml").write_text("title: edited by hand\n")
    out = subprocess.run(
        [*DRILLBOOK, "experiments", "export", "--check", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=cli_env(),
    )
    assert out.returncode == 1
    assert f"out of date: {tmp_path / 'backend-killed.yaml'}" in out.stderr
    assert not (tmp_path / "backend-hung.yaml").exists()  # --check writes nothing


@pytest.mark.docker
@pytest.mark.parametrize(
    "name",
    [
        "trading-bot-down.yaml",
        "database-partition.yaml",
        "exchanges-lost.yaml",  # generated from the catalogue: drill activities
        "suspected-breach.yaml",
        "controlled-shutdown.yaml",  # a planned drill: nothing to detect
    ],
)
def test_chaos_run_against_the_lab(lab: DockerLab, tmp_path: Path, name: str) -> None:
    journal = tmp_path / "journal.json"
    out = subprocess.run(
        [
            CHAOS,
            "--no-log-file",
            "run",
            "--journal-path",
            str(journal),
            str(ROOT / "experiments" / name),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=cli_env(DRILLBOOK_LAB=lab.name, DRILLBOOK_EVIDENCE=str(tmp_path / "evidence")),
    )
    data = json.loads(journal.read_text())
    assert out.returncode == 0, out.stdout + out.stderr
    assert data["status"] == "completed"
    assert data["deviated"] is False
    entry = convert_chaos_journal(journal)
    assert entry["outcome"] == "passed"
    assert entry["source"] == "chaostoolkit"
    phases = [t["phase"] for t in entry["timeline"]]
    assert any(p.startswith("action:") for p in phases)
    if name in ("exchanges-lost.yaml", "suspected-breach.yaml", "controlled-shutdown.yaml"):
        runs = {r["activity"]["name"]: r for r in data["run"]}
        assert runs["recovered"]["status"] == "succeeded", runs["recovered"]
        assert runs["invariants-hold"]["status"] == "succeeded", runs["invariants-hold"]
        assert [r["status"] for r in data["rollbacks"]] == ["succeeded"]
    if name == "suspected-breach.yaml":
        assert (tmp_path / "evidence" / "audit-logs-24h.tsv").is_file()
    if name == "trading-bot-down.yaml":  # the runbook's alert fired and resolved within bounds
        runs = {r["activity"]["name"]: r for r in data["run"]}
        for probe in ("trading-bot-down-alert-fires", "trading-bot-down-alert-resolves"):
            assert runs[probe]["status"] == "succeeded", runs[probe]
            assert 0 <= runs[probe]["output"] <= 7
    assert service_healthy("backend", configuration={"drillbook_lab": lab.name})


def test_convert_a_deviated_journal(tmp_path: Path) -> None:
    journal = tmp_path / "j.json"
    journal.write_text(
        json.dumps(
            {
                "experiment": {"title": "t", "tags": ["TradingBotDown", "docker"]},
                "status": "failed",
                "deviated": True,
                "duration": 1.5,
                "start": "2026-11-24T10:00:00.000000",
                "end": "2026-11-24T10:00:01.500000",
                "run": [
                    {
                        "activity": {"type": "action", "name": "kill"},
                        "status": "succeeded",
                        "start": "2026-11-24T10:00:00.500000",
                        "end": "2026-11-24T10:00:00.700000",
                        "output": None,
                    }
                ],
                "steady_states": {"before": {"probes": []}, "after": None},
                "rollbacks": [],
            }
        )
    )
    entry = convert_chaos_journal(journal)
    assert entry["outcome"] == "failed"
    assert entry["alert"] == "TradingBotDown"
    assert entry["timeline"] == [
        {
            "phase": "action:kill",
            "t_s": 0.5,
            "duration_s": 0.2,
            "status": "succeeded",
            "output": None,
        }
    ]


@pytest.mark.docker
def test_experiment_runs_from_pytest_through_chaoslib(lab: DockerLab) -> None:
    from chaoslib.experiment import run_experiment
    from chaoslib.loader import load_experiment

    experiment = load_experiment(str(ROOT / "experiments" / "trading-bot-down.yaml"))
    experiment["configuration"]["drillbook_lab"] = lab.name
    journal = run_experiment(experiment)
    assert journal["status"] == "completed"
    assert journal["deviated"] is False
    names = [r["activity"]["name"] for r in journal["run"]]
    assert names[:2] == ["kill-backend", "backend-down"]
    assert journal["run"][1]["output"] is False  # the probe saw the backend down

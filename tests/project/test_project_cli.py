"""``--project`` on the commands that need no lab: list, run --dry-run, runbook check
--env offline, and the refusals (TODOs left, --runbook beside a project, Kubernetes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drillbook.cli import main

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "examples" / "notes"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_trading_bot_project_is_what_drillbook_runs_without_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for env in ("docker", "kubernetes"):
        plain = _run(["list", "--env", env], capsys)
        project = _run(
            ["list", "--env", env, "--project", str(ROOT / "examples/trading-bot")], capsys
        )
        assert plain == project
        assert plain[0] == 0
        assert "backend" in plain[1]


def test_the_current_directory_is_the_project_when_it_holds_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(NOTES)
    code, out, _ = _run(["list"], capsys)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[2:]] == [
        "api-killed",
        "api-cut-from-db",
        "cache-down",
        "data-consistency",
    ]


def test_the_dry_run_cites_the_projects_runbook_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["run", "--dry-run", "--project", str(NOTES), "api-killed"], capsys)
    assert code == 0
    assert "step: restart the API  [runbook.md:18]" in out
    # 120 s in the drill file (the runbook's 600 s tightened), then the ci profile's own limit
    assert "budget: time_to_recover <= 30s  (api-killed.yaml:17 drill file (runbook 600s:" in out


def test_runbook_check_offline_on_the_project(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = _run(["runbook", "check", "--env", "offline", "--project", str(NOTES)], capsys)
    assert code == 0, out + err
    assert "0 finding(s)" in out
    # the runbook shortened below a drill's budget: the drill would now loosen it, refused
    copy = tmp_path / "notes"
    shutil.copytree(NOTES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    runbook = copy / "runbook.md"
    runbook.write_text(runbook.read_text().replace("within 10 minutes", "within 1 minute"))
    code, out, err = _run(["runbook", "check", "--env", "offline", "--project", str(copy)], capsys)
    assert (code, out) == (2, "")
    assert (
        f"{copy}/drills/api-killed.yaml:17: budgets.time_to_recover: 120s would loosen the "
        "runbook's 60s (runbook.md:29" in err
    )


def test_a_project_with_todos_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "p"
    code, _, _ = _run(
        ["init", str(project), "--runbook", str(NOTES / "runbook.md"),
         "--compose", str(NOTES / "compose.yaml")],
        capsys,
    )  # fmt: skip
    assert code == 0
    code, out, err = _run(["run", "--project", str(project)], capsys)
    assert (code, out) == (2, "")
    assert f"{project}/drillbook.yaml:" in err
    assert "TODO(s) left" in err


def test_runbook_beside_a_project_and_kubernetes_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(["list", "--project", str(NOTES), "--runbook", "x.md"], capsys)
    assert code == 2
    assert "the project names its runbook" in err
    code, _, err = _run(["run", "--project", str(NOTES), "--env", "kubernetes"], capsys)
    assert code == 2
    assert "its lab is a Compose file only (no lab.manifests)" in err


def test_a_project_schedule_names_the_projects_faults(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A saved schedule is read against the project's menu before any lab starts: a
    reference-stack kind is refused naming the project's own kinds."""
    saved = tmp_path / "s.json"
    saved.write_text(
        '{"budget_s": 5, "events": [{"kind": "kill", "target": "backend", '
        '"start_s": 0, "duration_s": 1}]}'
    )
    code, out, err = _run(["replay", str(saved), "--project", str(NOTES)], capsys)
    assert (code, out) == (2, "")
    assert (
        f"{saved}: events[0]: kind 'kill': expected one of api-killed, api-cut-from-db, "
        "cache-down (the drills of project 'notes')"
    ) in err


def test_schedules_need_a_drill_with_a_fault(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "notes"
    shutil.copytree(NOTES, project)
    text = (project / "drillbook.yaml").read_text()
    kept = "  - drills/data-consistency.yaml\n"
    start = text.index("drills:\n")
    (project / "drillbook.yaml").write_text(text[:start] + "drills:\n" + kept)
    code, _, err = _run(["schedules", "run", "--project", str(project)], capsys)
    assert code == 2
    assert "project 'notes' has no drill with a fault to schedule" in err
    with pytest.raises(SystemExit) as exited:
        main(["schedules", "run", "--examples", "0"])
    assert exited.value.code == 2
    assert "'0': expected a whole number from 1 to 1000" in capsys.readouterr().err

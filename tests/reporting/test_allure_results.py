"""What AllureResults writes for the Allure command line, and how a missing Allure or Java is
reported (the real `allure generate` runs in test_reports_docker.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from drillbook.errors import DrillbookError
from drillbook.reporting import AllureCommandLine, AllureResults
from drillbook.reporting._allure_cli import ALLURE_VERSION
from support.journals import synthetic_result

ROOT = Path(__file__).resolve().parents[2]


class _Drill:
    def __init__(self, name: str) -> None:
        self.name = name
        self.alert = "TradingBotDown"


def _write(tmp_path: Path, **spec: object) -> dict[str, object]:
    allure = AllureResults(tmp_path, "ci")
    result = synthetic_result(**spec, health=allure.health_log)  # type: ignore[arg-type]
    allure.drill_finished(_Drill(result.drill), result)
    [path] = list(tmp_path.glob("*-result.json"))
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_each_phase_and_runbook_step_is_a_timed_step(tmp_path: Path) -> None:
    data = _write(tmp_path, steps=(("restart", 1.3), ("check logs", 0.4)))
    steps = data["steps"]
    assert isinstance(steps, list)
    names = [s["name"].split(" (")[0] for s in steps]
    assert names == [
        "steady_state_verified",
        "fault_injected",
        "fault_active",
        "detected_probe",
        "detected_alert",
        "response_started",
        "runbook step: restart",
        "runbook step: check logs",
        "recovered",
        "alert_resolved",
        "verified",
        "fault_reverted",
    ]
    restart = steps[6]
    assert restart["stop"] - restart["start"] == 1300
    assert [s["start"] for s in steps] == sorted(s["start"] for s in steps)


def test_a_breach_is_a_failed_step_and_the_timeline_svg_is_attached(tmp_path: Path) -> None:
    data = _write(tmp_path, name="backend-hung", recovered=False)
    assert data["status"] == "failed"
    assert data["steps"][-1]["status"] == "failed"  # type: ignore[index]
    assert data["steps"][-1]["name"] == "SLA time_to_recover: 23.5s > 22.5s"  # type: ignore[index]
    attachments = {a["name"]: a for a in data["attachments"]}  # type: ignore[attr-defined]
    svg = tmp_path / attachments["timeline"]["source"]
    assert attachments["timeline"]["type"] == "image/svg+xml"
    text = svg.read_text()
    assert text.startswith("<svg")
    assert "backend-hung" in text
    assert 'fill="#d0021b" font-weight="bold">recover ≤ 22.5s' in text  # the breached deadline
    assert (tmp_path / attachments["incident timeline"]["source"]).is_file()


def test_the_bootstrap_installs_the_version_drillbook_expects() -> None:
    bootstrap = (ROOT / ".ci" / "bootstrap").read_text()
    assert re.search(r"^ALLURE_VERSION=(\S+)", bootstrap, re.M)[1] == ALLURE_VERSION  # type: ignore[index]


def test_missing_java_is_named_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(DrillbookError, match=r"(?s)Allure needs Java.*Hint: apt-get install"):
        AllureCommandLine.java()


def test_missing_allure_is_named_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("DRILLBOOK_ALLURE", raising=False)
    monkeypatch.setattr("drillbook.reporting._allure_cli.project_tools", lambda: [tmp_path / "x"])
    with pytest.raises(DrillbookError, match=r"(?s)not installed.*Hint: run .ci/bootstrap"):
        _ = AllureCommandLine().executable


def test_the_run_and_profile_go_to_the_environment_widget(tmp_path: Path) -> None:
    AllureResults(tmp_path / "allure-results", "ci").run_started("run-7", "ci")
    props = (tmp_path / "allure-results" / "environment.properties").read_text().splitlines()
    assert {"run_id=run-7", "profile=ci"} <= set(props)

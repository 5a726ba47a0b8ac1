"""Command-line errors that need no Docker engine: one clear message, a hint, an exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from drillbook.cli import main

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": SRC, **env}
    return subprocess.run(
        [sys.executable, "-m", "drillbook", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        check=False,
    )


def test_no_docker_engine_is_one_message_with_a_hint(tmp_path: Path) -> None:
    result = run("lab", "status", DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    assert result.returncode == 1
    assert result.stderr.startswith("drillbook: error: no Docker engine answers at unix://")
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_service_exits_2_before_touching_docker(tmp_path: Path) -> None:
    result = run("lab", "up", "--service", "mysql", DOCKER_HOST=f"unix://{tmp_path}/x.sock")
    assert result.returncode == 2
    assert "unknown service 'mysql'" in result.stderr
    assert (
        "Hint: the lab declares: alertmanager, backend, backup, exchange, frontend, postgres, "
        "postgres-exporter, prometheus, rabbitmq, redis, redis-exporter, responder"
        in (result.stderr)
    )


def test_unknown_image_exits_2(tmp_path: Path) -> None:
    result = run("images", "build", "mysql", DOCKER_HOST=f"unix://{tmp_path}/x.sock")
    assert result.returncode == 2
    assert "unknown image 'mysql'" in result.stderr


def test_bad_image_source_names_the_variable() -> None:
    result = run("lab", "status", DRILLBOOK_IMAGE_SOURCE="dockerhub")
    assert result.returncode == 2
    assert "DRILLBOOK_IMAGE_SOURCE='dockerhub'" in result.stderr


def test_bad_lab_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "down", "--name", "Bad Name"]) == 2
    assert "lab name 'Bad Name' is not valid" in capsys.readouterr().err


def test_usage_errors_come_from_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lab", "explode"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_list_shows_drills_with_budgets_from_the_runbook() -> None:
    result = run("list")
    assert result.returncode == 0, result.stderr
    assert "backend-killed" in result.stdout
    assert "time_to_recover<=600s" in result.stdout  # TradingBotDown: restored within 10 minutes
    assert "time_to_recover<=900s" in result.stdout  # DatabaseDown: 15 minutes


def test_dry_run_prints_the_plan_and_touches_nothing(tmp_path: Path) -> None:
    result = run("run", "--dry-run", "TradingBotDown", DOCKER_HOST=f"unix://{tmp_path}/x.sock")
    assert result.returncode == 0, result.stderr
    assert "backend-killed (TradingBotDown): inject kill backend (SIGKILL)" in result.stdout
    assert "budget: time_to_recover <= 90s" in result.stdout  # ci profile: tightened
    assert "nothing was touched" in result.stdout


def test_unknown_drill_is_named(tmp_path: Path) -> None:
    result = run("run", "--dry-run", "NoSuchAlert")
    assert result.returncode == 2
    assert "unknown drill 'NoSuchAlert'" in result.stderr


def test_runbook_show_and_its_errors(tmp_path: Path) -> None:
    shown = run("runbook", "show")
    assert shown.returncode == 0
    assert "HighRiskExposure [Critical] respond within 1 min" in shown.stdout
    bad = tmp_path / "bad.md"
    bad.write_text("# R\n## Alert Response Procedures\n### A\n**Severity**: High\n```bash\nls\n")
    result = run("runbook", "show", str(bad))
    assert result.returncode == 2
    assert f"{bad}:5: code block opened here is never closed" in result.stderr
    assert f"{bad}:3: alert 'A' has no **Response Time**" in result.stderr
    assert "Traceback" not in result.stderr

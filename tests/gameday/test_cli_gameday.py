"""`drillbook gameday` without a lab: the dry run (a rehearsal of the quarterly plan) and errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from support.labtools import cli_env

PLANS = Path(__file__).resolve().parents[2] / "drills" / "gameday"


def _gameday(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drillbook", "gameday", *args],
        capture_output=True,
        text=True,
        timeout=60,
        # no engine to be found: a dry run must not need one
        env=cli_env(DOCKER_HOST=f"unix://{cwd}/no-engine.sock"),
        cwd=cwd,
        check=False,
    )


def test_a_dry_run_rehearsal_of_the_quarterly_plan_touches_nothing(tmp_path: Path) -> None:
    quarterly = str(PLANS / "quarterly.yaml")
    result = _gameday(quarterly, "--rehearsal", "--dry-run", "--report", "r", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "profile gameday; rehearsal: automation plays every role" in out
    for alert in ("TradingBotDown", "DatabaseDown", "ExchangeConnectionLost", "HighRiskExposure"):
        assert f"({alert})" in out
    assert "acknowledges: automation as risk-manager" in out
    assert "escalate to management: multiple exchanges affected  -> automation (for " in out
    assert "budget: time_to_respond <= 1:00 (60s; quarterly.yaml:" in out  # the plan's own
    assert "dry run: 4 scenario(s), profile gameday; nothing was touched" in out
    assert list(tmp_path.iterdir()) == []  # no report directory, no lab


def test_a_dry_run_says_who_does_each_step_under_the_chosen_profile(tmp_path: Path) -> None:
    result = _gameday(str(PLANS / "smoke.yaml"), "--dry-run", "--profile", "ci", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "-> by hand: incident-commander (Alex)" in result.stdout
    assert "budget: time_to_recover <= 1:30 (90s;" in result.stdout


def test_a_bad_plan_exits_2_naming_file_line_and_field(tmp_path: Path) -> None:
    plan = tmp_path / "bad.yaml"
    text = (PLANS / "smoke.yaml").read_text().replace("acknowledge: on-call", "acknowledge: cto")
    plan.write_text(text)
    result = _gameday(str(plan), cwd=tmp_path)
    assert result.returncode == 2
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "acknowledge: cto" in t)
    assert result.stderr.startswith(
        f"drillbook: error: {plan}:{line}: scenarios[0].acknowledge: unknown role 'cto'\n"
        "Hint: the plan's roles: incident-commander, on-call"
    )
    assert "Traceback" not in result.stderr


def test_a_plan_and_an_env_that_do_not_match_exit_2_before_anything_starts(
    tmp_path: Path,
) -> None:
    quarterly = PLANS / "quarterly.yaml"
    result = _gameday(str(quarterly), "--env", "kubernetes", "--report", "r", cwd=tmp_path)
    assert result.returncode == 2
    line = _line(quarterly.read_text(), "env: docker")
    assert result.stderr == (
        f"drillbook: error: {quarterly}:{line}: env: the plan is for env docker; expected --env "
        "docker (or none), got --env kubernetes\n"
        "Hint: run it with --env docker, or leave --env out: the plan's env is used\n"
    ), result.stderr
    # a plan that names no env: its drills say which env it is for
    unsaid = tmp_path / "plans" / "quarterly.yaml"
    unsaid.parent.mkdir()
    unsaid.write_text(  # backend-hung: Docker only (the plan's other drills are portable)
        quarterly.read_text()
        .replace("env: docker\n", "")
        .replace("drill: backend-killed", "drill: backend-hung")
    )
    result = _gameday(str(unsaid), "--env", "kubernetes", "--report", "r", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"drillbook: error: {unsaid}:{_line(unsaid.read_text(), 'drill:')}: scenarios[0].drill: "
        "unknown drill 'backend-hung' on env kubernetes: it is a drill of env docker (run this "
        "plan with --env docker)\nHint: the drills of env kubernetes: exchange-rate-limited, "
        "exchanges-lost,"
    ), result.stderr
    # the Kubernetes plan without its env: line nor --env: the default env, docker, lacks its drills
    kubernetes = tmp_path / "plans" / "quarterly-kubernetes.yaml"
    kubernetes.write_text(
        (PLANS / "quarterly-kubernetes.yaml").read_text().replace("env: kubernetes\n", "")
    )
    result = _gameday(str(kubernetes), "--report", "r", cwd=tmp_path)
    assert result.returncode == 2
    # its first scenarios are portable drills: the first of Kubernetes only is unknown
    assert re.search(r"scenarios\[\d+\]\.drill: unknown drill ", result.stderr), result.stderr
    assert " on env docker: it is a drill of env kubernetes (run this plan with --env " in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["plans"]  # no report, no lab, no cluster


def _line(text: str, part: str) -> int:
    return next(i for i, t in enumerate(text.splitlines(), 1) if part in t)


def test_without_env_the_plans_env_is_used(tmp_path: Path) -> None:
    # the Kubernetes plan's drills load only on env kubernetes: its env: line chose it
    plan = str(PLANS / "quarterly-kubernetes.yaml")
    result = _gameday(plan, "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        f"game day 'quarterly-kubernetes' ({plan}), env kubernetes, profile gameday\n"
    ), result.stdout
    assert "dry run: 4 scenario(s), profile gameday; nothing was touched" in result.stdout
    # and the same env given is no mismatch
    result = _gameday(plan, "--env", "kubernetes", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    smoke = str(PLANS / "smoke.yaml")
    result = _gameday(smoke, "--dry-run", cwd=tmp_path)
    assert result.stdout.startswith(f"game day 'smoke' ({smoke}), env docker, profile gameday")
    assert list(tmp_path.iterdir()) == []


def test_a_dry_run_of_the_kubernetes_plan_needs_no_cluster(tmp_path: Path) -> None:
    plan = str(PLANS / "quarterly-kubernetes.yaml")
    result = _gameday(plan, "--env", "kubernetes", "--rehearsal", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("backend-killed", "postgres-killed", "backend-bad-rollout"):
        assert f": {name} (" in result.stdout
    assert "-> automation (for platform-engineer)" in result.stdout
    assert "dry run: 4 scenario(s), profile gameday; nothing was touched" in result.stdout
    assert list(tmp_path.iterdir()) == []

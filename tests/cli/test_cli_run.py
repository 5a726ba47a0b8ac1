"""`drillbook run` as the README's main job runs it: a real lab, real drills, a report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.labtools import cli_env

pytestmark = pytest.mark.docker


def test_run_writes_journal_junit_and_allure(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "drillbook",
            "run",
            "backend-killed",
            "postgres-killed",
            "--report",
            str(tmp_path),
            "--name",
            "cli-run-test",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=cli_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir()]
    journal = json.loads((run_dir / "journal.json").read_text())
    assert [d["drill"] for d in journal["drills"]] == ["backend-killed", "postgres-killed"]
    assert all(d["outcome"] == "passed" for d in journal["drills"])
    assert journal["passed"] is True
    assert (run_dir / "junit.xml").is_file()
    assert len(list((run_dir / "allure-results").glob("*-result.json"))) == 2
    assert (run_dir / "index.html").is_file()
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [[d["drill"] for d in run["drills"]] for run in history] == [
        ["backend-killed", "postgres-killed"]
    ]
    assert "backend-killed" in result.stdout
    assert "***" not in result.stdout  # nothing secret-like printed
    assert "POSTGRES_PASSWORD" not in result.stdout + result.stderr

"""A rehearsal on the real Docker lab: automation plays every role and nobody is asked."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import docker
import pytest

from drillbook.environments.docker import clean_leftovers
from support.labtools import cli_env, leftovers

pytestmark = pytest.mark.docker

SMOKE = Path(__file__).resolve().parents[2] / "drills" / "gameday" / "smoke.yaml"


def test_a_rehearsal_runs_the_plan_with_no_one_at_the_terminal(tmp_path: Path) -> None:
    name = f"rehearsal-{uuid.uuid4().hex[:6]}"
    argv = [sys.executable, "-m", "drillbook", "gameday", str(SMOKE), "--rehearsal"]
    try:
        result = subprocess.run(
            [*argv, "--profile", "ci", "--name", name, "--report", str(tmp_path)],
            stdin=subprocess.DEVNULL,  # a prompt would read end of input and abort
            capture_output=True,
            text=True,
            timeout=300,
            env=cli_env(),
            check=False,
        )
    finally:
        found = leftovers(docker.from_env(), name)
        clean_leftovers(docker.from_env(), name)  # a run killed by the timeout leaves none
    assert found == []
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rehearsal: acknowledged by automation as on-call" in result.stderr
    assert "residue: none" in result.stdout
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (run / "index.html").is_file()  # the same report as drillbook run's
    assert run.name in (tmp_path / "history.jsonl").read_text()
    journal = json.loads((run / "journal.json").read_text())
    assert journal["gameday"]["rehearsal"] is True
    [drill] = journal["drills"]
    assert drill["outcome"] == "passed"
    actors = [(t["phase"], t["actor"]) for t in drill["timeline"]]
    assert ("response_started", "automation as on-call") in actors
    assert [a for p, a in actors if p == "step_finished"] == ["automation", "automation"]
    assert drill["notes"] == []

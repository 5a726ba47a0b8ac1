"""A rehearsal on the real Docker lab: automation plays every role and nobody is asked. It plays
on the session's shared default lab (`--lab`), which it leaves up and as it found it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from drillbook.drills import lab_state, residue
from drillbook.environments.docker import DockerLab
from support.labtools import DRILLBOOK, cli_env, run_label

pytestmark = pytest.mark.docker

SMOKE = Path(__file__).resolve().parents[2] / "drills" / "gameday" / "smoke.yaml"


def test_a_rehearsal_runs_the_plan_with_no_one_at_the_terminal(
    tmp_path: Path, default_lab: DockerLab
) -> None:
    before, run_id = lab_state(default_lab), run_label(default_lab)
    result = subprocess.run(
        [*DRILLBOOK, "gameday", str(SMOKE), "--rehearsal", "--profile", "ci",
         "--lab", default_lab.name, "--report", str(tmp_path)],
        stdin=subprocess.DEVNULL,  # a prompt would read end of input and abort
        capture_output=True, text=True, timeout=300, env=cli_env(), check=False,
    )  # fmt: skip
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
    # --lab: not started, not removed, and as the game day found it
    assert f"lab {default_lab.name!r} (--lab: already up, left up)" in result.stderr
    assert run_label(default_lab) == run_id
    assert residue(before, lab_state(default_lab)) == []

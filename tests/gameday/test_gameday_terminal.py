"""`drillbook gameday` on a real pseudo-terminal and a real Docker lab, an operator scripted:
one game day to the end and one aborted with Ctrl-C while the fault is in effect, both on the
session's shared default lab (`--lab`: left up, as found); and the aborts that must remove the
lab the command started itself, each on a private lab."""

from __future__ import annotations

import json
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from drillbook.drills import lab_state
from drillbook.environments.docker import DockerLab, clean_leftovers
from support.labtools import LabPool, cli_env, leftovers, run_label
from support.terminal import Terminal

pytestmark = pytest.mark.docker

SMOKE = Path(__file__).resolve().parents[2] / "drills" / "gameday" / "smoke.yaml"
STEP_PROMPT = r"h: hand to automation > "


ARGV = [sys.executable, "-m", "drillbook", "gameday", str(SMOKE), "--profile", "ci"]


@pytest.fixture
def gameday(tmp_path: Path) -> Iterator[tuple[Terminal, str, Path]]:
    """`drillbook gameday smoke.yaml` on a terminal, starting a private lab of its own name,
    and its report directory."""
    name = f"gameday-{uuid.uuid4().hex[:6]}"
    reports = tmp_path / "reports"
    term = Terminal([*ARGV, "--name", name, "--report", str(reports)], cli_env(), str(tmp_path))
    try:
        yield term, name, reports
    finally:
        term.close()
        clean_leftovers(docker.from_env(), name)  # a test that failed half-way leaves none


@pytest.fixture
def gameday_on_lab(
    tmp_path: Path, default_lab: DockerLab
) -> Iterator[tuple[Terminal, DockerLab, Path, dict[str, Any]]]:
    """`drillbook gameday smoke.yaml --lab` on a terminal, on the shared default lab; with the
    report directory and the lab's state before the game day."""
    reports = tmp_path / "reports"
    before = lab_state(default_lab)
    argv = [*ARGV, "--lab", default_lab.name, "--report", str(reports)]
    term = Terminal(argv, cli_env(), str(tmp_path))
    try:
        yield term, default_lab, reports, before
    finally:
        term.close()


def _journal(reports: Path) -> dict[str, Any]:
    [run] = [p for p in reports.iterdir() if p.is_dir()]
    return dict(json.loads((run / "journal.json").read_text()))


def test_a_game_day_records_who_did_what_and_the_notes(
    gameday_on_lab: tuple[Terminal, DockerLab, Path, dict[str, Any]],
) -> None:
    term, lab, reports, before = gameday_on_lab
    run_id = run_label(lab)
    term.expect(r"Enter: inject the fault and start the clock > ", timeout=180)
    term.type("n starting the smoke game day\n")
    term.expect(r"note by Alex at before the fault: starting the smoke game day")
    term.expect(r"Enter: inject the fault and start the clock > ")
    term.type("\n")
    term.expect(r"\*\*\* ALERT ExchangeConnectionLost: exchanges-lost")
    term.expect(r"\[exchanges-lost\] T\+\d:\d\d  respond \d:\d\d/0:30  recover \d:\d\d/1:30")
    term.expect(r"acknowledge as on-call: your name \(Enter: Sam\) > ")
    term.type("Robin\n")
    term.expect(r"step for on-call \(Robin\): kubectl set env deployment/backend SIMULATE")
    term.expect(STEP_PROMPT)
    term.type("n switching the bot to simulation\n")
    term.expect(r"note by Robin at T\+\d:\d\d: switching the bot to simulation")
    term.expect(STEP_PROMPT)
    term.type("h\n")
    term.expect(r"step for incident-commander \(Alex\): escalate to management")
    term.expect(STEP_PROMPT)
    term.type("d\n")
    term.expect(r"--- exchanges-lost: PASSED \(respond \d:\d\d/0:30, recover \d:\d\d/1:30")
    assert term.wait(timeout=180) == 0, term.screen[-3000:]
    assert "residue: none" in term.screen

    journal = _journal(reports)
    assert journal["gameday"]["plan"] == "smoke"
    assert journal["gameday"]["aborted"] is None
    [drill] = journal["drills"]
    assert drill["outcome"] == "passed"
    actors = {(t["phase"], t["step"]): t["actor"] for t in drill["timeline"]}
    assert actors[("response_started", None)] == "Robin"
    simulate, escalate = (s for s in drill["steps_s"])
    assert actors[("step_finished", simulate)] == "automation"  # handed over by Robin
    assert actors[("step_finished", escalate)] == "Alex"  # the incident commander, by hand
    notes = [(n["by"], n["text"]) for n in drill["notes"]]
    assert notes == [
        ("Alex", "starting the smoke game day"),
        ("Robin", "switching the bot to simulation"),
        ("Robin", f"handed to automation: {simulate}"),
    ]
    assert drill["notes"][0]["t_s"] < 0 < drill["notes"][1]["t_s"]  # before / after the fault
    assert drill["roles"] == {"on-call": "Robin", "incident-commander": "Alex"}
    assert f"lab {lab.name!r} (--lab: already up, left up)" in term.screen
    assert run_label(lab) == run_id  # not started anew, not removed
    assert LabPool.verify(lab, before, settle_s=30) == []


def test_ctrl_c_on_a_lab_that_is_up_reverts_the_fault_and_leaves_it_up(
    gameday_on_lab: tuple[Terminal, DockerLab, Path, dict[str, Any]],
) -> None:
    term, lab, reports, before = gameday_on_lab
    run_id = run_label(lab)
    term.expect(r"Enter: inject the fault and start the clock > ", timeout=180)
    term.type("\n")
    term.expect(r"acknowledge as on-call: your name \(Enter: Sam\) > ")
    term.type("\n")
    term.expect(STEP_PROMPT)
    term.type("\x03")  # Ctrl-C, the exchanges unreachable
    term.expect(r"ABORT \(Ctrl-C\) by Sam: reverting the fault, leaving the lab up")
    assert term.wait(timeout=180) == 130, term.screen[-3000:]
    assert (
        f"game day aborted (Ctrl-C): the fault was reverted and lab {lab.name!r} left up (--lab)"
        in term.screen
    )
    assert "Traceback" not in term.screen
    [drill] = _journal(reports)["drills"]
    assert (drill["outcome"], drill["reverted"]) == ("aborted", True)
    assert run_label(lab) == run_id
    # healthy again, the exchanges' faults gone: nothing changed
    assert LabPool.verify(lab, before, settle_s=60) == []


def test_ctrl_c_in_the_middle_reverts_the_fault_and_removes_the_lab(
    gameday: tuple[Terminal, str, Path],
) -> None:
    """A private lab: the point is that an abort removes the lab the command started."""
    term, name, reports = gameday
    term.expect(r"Enter: inject the fault and start the clock > ", timeout=180)
    term.type("\n")
    term.expect(r"acknowledge as on-call: your name \(Enter: Sam\) > ")
    term.type("\n")  # Sam acknowledges
    term.expect(STEP_PROMPT)
    term.type("\x03")  # Ctrl-C at the keyboard, the fault in effect
    term.expect(r"ABORT \(Ctrl-C\) by Sam: reverting the fault, removing the lab")
    term.expect(r"fault_reverted both drops every connection")
    assert term.wait(timeout=180) == 130, term.screen[-3000:]
    assert "game day aborted (Ctrl-C): the fault was reverted" in term.screen
    assert "Traceback" not in term.screen

    journal = _journal(reports)
    assert journal["gameday"]["aborted"] == "Ctrl-C"
    [drill] = journal["drills"]
    assert (drill["outcome"], drill["reverted"]) == ("aborted", True)
    assert drill["notes"][-1]["text"] == "aborted (Ctrl-C)"
    assert leftovers(docker.from_env(), name) == []  # nothing labelled with the lab is left


def test_sigterm_at_the_briefing_removes_the_lab(gameday: tuple[Terminal, str, Path]) -> None:
    """A private lab: the point is that SIGTERM at the briefing, before any fault, removes the
    lab the command started."""
    term, name, reports = gameday
    term.expect(r"Enter: inject the fault and start the clock > ", timeout=180)
    term.proc.send_signal(signal.SIGTERM)  # as a CI job's timeout sends it
    term.expect(r"ABORT \(SIGTERM\) by Alex: reverting the fault, removing the lab")
    assert term.wait(timeout=120) == 130, term.screen[-3000:]
    assert _journal(reports)["gameday"]["aborted"] == "SIGTERM"
    assert _journal(reports)["drills"] == []  # aborted before any fault
    assert leftovers(docker.from_env(), name) == []

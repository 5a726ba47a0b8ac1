"""On simulated (kwok) nodes the scenarios whose drill needs real nodes are left out: known
before the lab starts, so the game day's header counts only the scenarios it will play and says
how many were left out and why; the journal and the run page say it too. A tier that starts no
lab stands in for the cluster; each scenario's drill is a synthetic result."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from drillbook.cli._gameday import _play, header
from drillbook.cli._subject import Subject
from drillbook.cli._tier import Tier
from drillbook.drills import Drill, Operator, default_runbook
from drillbook.drills.catalog import docker_drills
from drillbook.drills.kubernetes import REAL_NODES_ONLY, kubernetes_drills
from drillbook.gameday import load_plan
from drillbook.reporting import RunEventHandler
from drillbook.sla import get_profile
from support.journals import synthetic_result

PLANS = Path(__file__).resolve().parents[2] / "drills" / "gameday"
QUARTERLY = PLANS / "quarterly.yaml"
ORDER = [s.drill.name for s in load_plan(QUARTERLY, docker_drills(default_runbook())).scenarios]
REASON = "real nodes: --nodes real, or a real cluster's context"


class _Runner:
    """Plays a drill as the runner's handlers see one: started, then a synthetic result."""

    def __init__(self, handlers: Sequence[RunEventHandler]) -> None:
        self.handlers = handlers

    def run(self, drill: Drill) -> None:
        for h in self.handlers:
            h.drill_started(drill)
        result = synthetic_result(drill.name)
        for h in self.handlers:
            h.drill_finished(drill, result)


class _Tier:
    """A tier on kwok nodes that cannot run ``out``; it keeps what the console had said when
    its lab started."""

    def __init__(self, out: set[str], said: list[str]) -> None:
        self.out = out
        self.said = said
        self.name = "fake"
        self.lab: Any = None
        self.said_before_start: list[str] = []
        self.stopped = False

    def left_out(self, drills: list[Any]) -> list[Any]:
        return [d for d in drills if d.name in self.out]

    def start(self, say: Callable[[str], None]) -> object:
        self.said_before_start = list(self.said)
        self.lab = argparse.Namespace(name=self.name)
        return self.lab

    def runner(
        self, profile: Any, handlers: Sequence[RunEventHandler], evidence: Path, op: Operator
    ) -> _Runner:
        return _Runner(handlers)

    def state(self) -> dict[str, Any]:
        return {}

    def stop(self) -> None:
        self.stopped = True


def _game_day(tmp_path: Path, out: set[str]) -> tuple[int, str, dict[str, Any], str]:
    plan = load_plan(QUARTERLY, docker_drills(default_runbook()))
    args = argparse.Namespace(report=str(tmp_path), env="kubernetes", rehearsal=True, lab=None)
    said: list[str] = []
    tier: Any = _Tier(out, said)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("drillbook.gameday.GameDayConsole.say", lambda _, text: said.append(text))
        code = _play(args, plan, get_profile("ci"), tier)
    assert tier.stopped
    assert tier.said_before_start == said[:1]  # the header, before the lab starts
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    journal = json.loads((run / "journal.json").read_text())
    return code, "\n".join(said), journal, (run / "index.html").read_text()


def test_the_header_counts_the_scenarios_played_and_says_which_were_left_out_and_why(
    tmp_path: Path,
) -> None:
    assert ORDER.index("exchanges-lost") == 2  # left out from the middle of the plan
    code, said, journal, page = _game_day(tmp_path, {"exchanges-lost"})
    assert code == 0
    first = said.splitlines()[0]
    assert first.startswith(
        "game day 'quarterly' (rehearsal: automation plays every role): 3 scenario(s) to play, "
        "1 left out, profile ci, env kubernetes, run "
    ), first
    assert said.splitlines()[1] == (
        f"    left out on simulated (kwok) nodes: exchanges-lost (it needs {REASON})"
    )
    played = [d["drill"] for d in journal["drills"]]
    assert played == [n for n in ORDER if n != "exchanges-lost"]
    section = journal["gameday"]
    assert section["left_out"] == ["exchanges-lost"]
    assert section["left_out_reasons"] == {
        "exchanges-lost": f"on simulated (kwok) nodes, it needs {REASON}"
    }
    assert section["scenarios"] == ORDER
    assert 'data-scenario="exchanges-lost" data-outcome="left out"' in page
    assert "3 of 4 scenario(s) played" in page


def test_with_nothing_left_out_the_header_counts_every_scenario(tmp_path: Path) -> None:
    code, said, journal, _ = _game_day(tmp_path, set())
    assert code == 0
    assert ": 4 scenario(s) to play, profile ci, env kubernetes, run " in said
    assert "left out" not in said
    assert "left_out" not in journal["gameday"]
    assert len(journal["drills"]) == 4


def test_with_every_scenario_left_out_nothing_is_proved(tmp_path: Path) -> None:
    code, said, journal, _ = _game_day(tmp_path, set(ORDER))
    assert code == 1  # a game day that played nothing passes nothing
    assert ": 0 scenario(s) to play, 4 left out, " in said
    assert "(they need real nodes: " in said
    assert journal["drills"] == []


def test_the_header_without_a_rehearsal_or_left_out_scenarios() -> None:
    plan = load_plan(PLANS / "smoke.yaml", docker_drills(default_runbook()))
    assert header(plan, [], "gameday", "docker", "r1") == (
        "game day 'smoke': 1 scenario(s) to play, profile gameday, env docker, run r1\n"
        "    at any prompt: n TEXT adds a note, a aborts; Ctrl-C aborts at any moment"
    )


def _tier(env: str, nodes: str = "kwok", lab: Any = None) -> Tier:
    args = argparse.Namespace(env=env, nodes=nodes, lab=None, name="t")
    tier = Tier(args, Subject(default_runbook()))
    tier.lab = lab
    return tier


class _Lab:
    def __init__(self, real: bool) -> None:
        self.real = real

    def real_nodes(self) -> bool:
        return self.real


def test_left_out_is_known_before_the_lab_starts() -> None:
    drills = kubernetes_drills(default_runbook())
    real_only = [d.name for d in drills if d.name in REAL_NODES_ONLY]
    assert real_only  # the catalogue has drills that need real nodes
    # a local cluster not started yet: its nodes are --nodes
    assert [d.name for d in _tier("kubernetes").left_out(drills)] == real_only
    assert _tier("kubernetes", "real").left_out(drills) == []
    # a cluster named (or started) is asked
    assert [d.name for d in _tier("kubernetes", lab=_Lab(False)).left_out(drills)] == real_only
    assert _tier("kubernetes", "kwok", _Lab(True)).left_out(drills) == []
    assert _tier("docker").left_out(docker_drills(default_runbook())) == []
    said: list[str] = []
    kept = _tier("kubernetes").runnable(drills, say=said.append)
    assert [d.name for d in kept] == [d.name for d in drills if d.name not in REAL_NODES_ONLY]
    assert said == [
        f"  left out on simulated (kwok) nodes: {', '.join(real_only)} (they need {REASON})"
    ]

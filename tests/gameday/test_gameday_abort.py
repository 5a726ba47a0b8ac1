"""A game day aborted while a breached drill reverts, on fakes (no lab): the revert finishes,
the drill is in the journal with its breach and the abort's note, and the plan stops there."""

from __future__ import annotations

import io
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from drillbook.drills import Drill
from drillbook.gameday import GameDayConsole, Plan, Role, Scenario, abort_on_signals, run_plan
from drillbook.gameday._plan import Assignment
from drillbook.reporting import JsonJournal
from drillbook.sla import Profile
from support.fake_drill import FakeLab, Service, breached_drill, signal_self


def _scenario(drill: Drill) -> Scenario:
    return Scenario(drill, "on-call", tuple(Assignment(s.name) for s in drill.steps))


@pytest.mark.parametrize(("sig", "how"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")])
def test_an_abort_while_a_breached_drill_reverts_keeps_it_in_the_journal(
    tmp_path: Path, sig: signal.Signals, how: str
) -> None:
    first, second = Service(), Service()
    plan = Plan(
        "abort",
        (
            _scenario(breached_drill("svc-down", first, on_revert=signal_self(sig))),
            _scenario(breached_drill("svc-down-again", second)),
        ),
        (Role("on-call", "Sam"),),
    )
    console = GameDayConsole(io.StringIO(), io.StringIO(), people=plan.people(), live=False)
    console.current = "Sam"  # at the keyboard, as drillbook gameday starts it
    journal = JsonJournal(tmp_path, "run-g", "test")
    journal.run_started("run-g", "test")
    lab: Any = FakeLab()
    with abort_on_signals(console):
        outcome = run_plan(
            plan, lab, Profile("test", settle_s=0.05), console, rehearsal=True, handlers=[journal]
        )
    assert outcome.aborted == how
    [entry] = json.loads(journal.path.read_text())["drills"]
    assert (entry["drill"], entry["outcome"], entry["reverted"]) == ("svc-down", "breached", True)
    assert [b["measure"] for b in entry["breaches"]] == ["time_to_recover"]
    assert [(n["by"], n["text"]) for n in entry["notes"]] == [
        ("Sam", f"aborted ({how}) while the drill reverted: the plan stops after it")
    ]
    assert entry["roles"] == {"on-call": "Sam"}
    [result] = outcome.results
    assert result.outcome == "breached"
    assert first.up  # the revert was not cut short
    assert second.broken == 0  # the plan stopped after the drill

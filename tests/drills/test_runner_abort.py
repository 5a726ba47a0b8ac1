"""The runner with fakes (its own logic): an abort while a drill reverts still hands the drill's
result, its breach with it, to every handler before the run stops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drillbook.drills import DrillRunner
from drillbook.reporting import DrillLike, JsonJournal, RunEventHandler
from drillbook.sla import DrillResult, Profile
from support.fake_drill import Service, breached_drill, interrupt

QUICK = Profile("test", settle_s=0.05)


class Events(RunEventHandler):
    def __init__(self, service: Service) -> None:
        self.service = service
        self.seen: list[str] = []

    def drill_finishing(self, drill: DrillLike) -> None:
        self.seen.append(f"finishing (svc {'up' if self.service.up else 'down'})")

    def drill_finished(self, drill: DrillLike, result: DrillResult) -> None:
        self.seen.append(f"finished {result.outcome}")


@pytest.mark.parametrize("late", [False, True], ids=["never-recovered", "recovered-late"])
def test_an_abort_in_the_revert_of_a_breached_drill_still_reaches_the_journal(
    tmp_path: Path, late: bool
) -> None:
    svc = Service()
    journal = JsonJournal(tmp_path, "run-a", "test")
    journal.run_started("run-a", "test")
    events = Events(svc)
    drill = breached_drill("svc-down", svc, on_revert=interrupt, late=late)
    runner = DrillRunner(object(), QUICK, [events, journal], detection=None)  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):  # the abort still stops the run, after the result
        runner.run(drill)
    [entry] = json.loads(journal.path.read_text())["drills"]
    assert entry["drill"] == "svc-down"
    assert entry["outcome"] == "breached"
    [breach] = entry["breaches"]
    assert (breach["measure"], breach["budget_s"], breach["reached"]) == (
        "time_to_recover",
        0.1,
        late,
    )
    assert "REVERT INTERRUPTED" in entry["error"]
    assert entry["reverted"] is False  # cut short, and said so
    [note] = entry["notes"]
    assert note["by"] == "drillbook"
    assert note["text"].startswith("aborted while this drill reverted")
    assert events.seen == [
        f"finishing (svc {'up' if late else 'down'})",  # announced before the revert began
        "finished breached",
    ]


def test_a_breached_drill_announces_its_revert_before_it_begins() -> None:
    svc = Service()
    events = Events(svc)
    drill = breached_drill("svc-down", svc)
    result = DrillRunner(object(), QUICK, [events], detection=None).run(drill)  # type: ignore[arg-type]
    assert result.outcome == "breached"
    assert result.reverted
    assert result.notes == []
    assert events.seen == ["finishing (svc down)", "finished breached"]

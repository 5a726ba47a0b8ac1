"""The planted bug: a test variant of the backend that records a trade twice after a restart
(tests/schedules/planted/double_record.py) is found by the property suite and shrunk to a short
schedule with a backend kill in it; the shrunk schedule is saved for ``drillbook replay``."""

from __future__ import annotations

import pytest

from drillbook.environments.docker import DockerLab
from drillbook.schedules import ScheduleProfile, failure_path, load_schedule
from support.schedule_property import REPORTS, Seen, lab_property

pytestmark = pytest.mark.docker


def test_planted_double_record_is_found_and_shrunk(
    planted_lab: DockerLab, schedule_profile: ScheduleProfile
) -> None:
    seen: Seen = []
    saved = failure_path(REPORTS, "planted-double-record")
    saved.unlink(missing_ok=True)
    with pytest.raises(AssertionError, match="no trade lost or duplicated"):
        lab_property(planted_lab, schedule_profile, seen, saved)()
    shrunk, verdicts = seen[-1]  # Hypothesis replays the shrunk example last
    assert len(shrunk.events) <= 2, shrunk.describe()
    assert any(e.kind == "kill" and e.target == "backend" for e in shrunk.events)
    duplicated = next(v for v in verdicts if v.name == "no trade lost or duplicated")
    assert "recorded more than once" in duplicated.detail
    assert load_schedule(saved).events == shrunk.events
    print(f"shrunk to {shrunk.describe()} after {len(seen)} failing run(s); saved {saved}")

"""The schedule property run against a lab, shared by the real-backend and planted-bug tests."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, note, settings

from drillbook.environments.docker import DockerLab
from drillbook.schedules import (
    Schedule,
    ScheduleProfile,
    Verdict,
    check_invariants,
    failed,
    forget_unfilled,
    run_schedule,
    save_failure,
)

REPORTS = Path(__file__).resolve().parents[2] / "reports" / "schedules"


Seen = list[tuple[Schedule, list[Verdict]]]


def lab_property(lab: DockerLab, profile: ScheduleProfile, seen: Seen, saved: Path):  # type: ignore[no-untyped-def]
    @settings(**profile.settings_kwargs())  # type: ignore[arg-type]
    @given(profile.strategy())
    def prop(schedule: Schedule) -> None:
        note(f"schedule: {schedule.describe()}")
        forget_unfilled(lab)  # a previous example's damage is not this one's
        verdicts = check_invariants(lab, run_schedule(lab, schedule))
        bad = failed(verdicts)
        if bad:
            seen.append((schedule, verdicts))
            save_failure(schedule, verdicts, saved)  # the last one saved is the shrunk one
            note(f"saved: {saved} (drillbook replay {saved})")
        assert not bad, "; ".join(f"{v.name}: {v.detail}" for v in bad)

    return prop

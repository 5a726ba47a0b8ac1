"""Schedules as data: bounds, overlaps, JSON round trip, errors that name the file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.errors import ConfigError
from drillbook.schedules import (
    KINDS,
    PROFILES,
    FaultEvent,
    Schedule,
    fault_for,
    load_schedule,
    profile_for,
    save_schedule,
    schedule_from_json,
    schedules,
)


@given(st.floats(2, 60).map(lambda b: round(b * 2) / 2), st.integers(1, 6), st.data())
def test_every_event_ends_within_the_budget(budget: float, most: int, data: st.DataObject) -> None:
    schedule = data.draw(schedules(budget, most))
    assert 1 <= len(schedule.events) <= most
    assert schedule.budget_s == budget
    for e in schedule.events:
        assert 0 <= e.start_s < e.end_s <= budget
        assert e.duration_s >= 1.0
        assert e.target in KINDS[e.kind]
    assert [e.start_s for e in schedule.events] == sorted(e.start_s for e in schedule.events)


@given(schedules(20.0, 5))
def test_json_round_trip(schedule: Schedule) -> None:
    again = schedule_from_json(json.loads(json.dumps(schedule.to_json())), "x.json")
    assert again == schedule


def test_the_strategy_generates_overlapping_faults() -> None:
    from hypothesis import find

    found = find(schedules(10.0, 3), lambda s: s.overlaps() >= 1)
    assert found.overlaps() >= 1
    assert len(found.events) == 2  # shrunk: the smallest overlap is two events


def test_save_and_load(tmp_path: Path) -> None:
    s = Schedule((FaultEvent("kill", "backend", 0.5, 2.0),), 8.0, note="why")
    path = save_schedule(s, tmp_path / "deep" / "s.json")
    assert load_schedule(path) == s


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", r"s\.json:1:2: not valid JSON"),
        ("[]", r"s\.json: expected a JSON object"),
        ('{"budget_s": 5}', r"field 'events': expected a list"),
        ('{"budget_s": 5, "events": [{"kind": "kill"}]}', r"events\[0\]: missing field"),
        (
            '{"budget_s": 5, "events": [{"kind": "nuke", "target": "x", "start_s": 0, '
            '"duration_s": 1}]}',
            r"events\[0\]: kind 'nuke': expected one of kill",
        ),
        (
            '{"budget_s": 5, "events": [{"kind": "kill", "target": "backend", "start_s": "0", '
            '"duration_s": 1}]}',
            r"events\[0\]\.start_s: expected a number",
        ),
        (
            '{"budget_s": 5, "events": [{"kind": "kill", "target": "backend", "start_s": 4, '
            '"duration_s": 3}]}',
            r"ends at 7s, after budget_s 5",
        ),
        ('{"events": []}', r"field 'budget_s': expected a number"),
    ],
)
def test_bad_files_name_the_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_schedule(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such schedule file"):
        load_schedule(tmp_path / "nope.json")


def test_each_kind_has_a_fault_that_names_itself() -> None:
    for kind, targets in KINDS.items():
        for target in targets:
            fault = fault_for(FaultEvent(kind, target, 0, 1))
            assert fault.name


def test_profiles_grow_from_ci_to_nightly() -> None:
    ci, nightly = profile_for("ci"), profile_for("nightly")
    assert ci.max_examples < nightly.max_examples
    assert ci.budget_s < nightly.budget_s
    assert "halt" not in ci.kinds
    assert "halt" in nightly.kinds
    assert set(PROFILES) == {"ci", "nightly", "gameday"}
    with pytest.raises(ConfigError, match="expected one of ci, nightly, gameday"):
        profile_for("weekly")


def test_shrinking_lands_on_the_smallest_schedule_that_fails() -> None:
    """The planted bug's shape as a pure predicate (a backend kill in the schedule): from any
    failing schedule, Hypothesis shrinks to the one-event schedule the Docker suite expects."""
    from hypothesis import find, settings

    def fails(s: Schedule) -> bool:
        return len(s.events) >= 2 and any(
            e.kind == "kill" and e.target == "backend" for e in s.events
        )

    found = find(schedules(8.0, 4), fails, settings=settings(database=None, max_examples=500))
    assert len(found.events) == 2
    assert FaultEvent("kill", "backend", 0.0, 1.0) in found.events

"""A project's schedule menu: its drills' faults as kinds, their invariants, checked events."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.drills import Drill, Invariant
from drillbook.errors import ConfigError
from drillbook.faults import BlockPeer, KillContainer, StopContainer
from drillbook.schedules import (
    REFERENCE,
    FaultEvent,
    Menu,
    drill_menu,
    profile_for,
    schedule_from_json,
)
from drillbook.waiting import Check


def _inv(name: str) -> Invariant:
    return Invariant(name, lambda p: Check(True, name))


def _drills() -> list[Drill]:
    return [
        Drill("api-killed", "ApiDown", KillContainer("api"), (), (), (), (_inv("no orphan"),)),
        Drill(
            "api-cut", "DbDown", BlockPeer("api", 5432), (), (), (), (_inv("no orphan"), _inv("b"))
        ),
        Drill("cache-down", "CacheDown", StopContainer("cache"), (), (), ()),
        Drill(
            "check", "Check", KillContainer("x"), (), (), (), (_inv("c"),), planned=True
        ),  # a planned procedure: its invariants count, its fault is not scheduled
    ]


def test_each_drill_with_a_fault_is_a_kind_targeting_its_service() -> None:
    menu = drill_menu(_drills(), "project 'p'")
    assert dict(menu.kinds) == {
        "api-killed": ("api",),
        "api-cut": ("api",),
        "cache-down": ("cache",),
    }
    assert [i.name for i in menu.invariants] == ["no orphan", "b", "c"]
    assert not menu.reference
    assert REFERENCE.reference


def test_each_event_gets_its_own_fault() -> None:
    menu = drill_menu(_drills(), "project 'p'")
    event = FaultEvent("api-killed", "api", 0, 1)
    first, second = menu.fault(event), menu.fault(event)
    assert first == KillContainer("api")
    assert first is not second


def test_a_menu_checks_events_by_its_own_kinds() -> None:
    menu = drill_menu(_drills(), "project 'p'")
    good = {"kind": "cache-down", "target": "cache", "start_s": 0, "duration_s": 2}
    s = schedule_from_json({"budget_s": 4, "events": [good]}, "s.json", menu)
    assert s.events == (FaultEvent("cache-down", "cache", 0, 2),)
    with pytest.raises(ConfigError, match=r"s\.json: events\[0\]: kind 'cache-down': expected"):
        schedule_from_json({"budget_s": 4, "events": [good]}, "s.json")  # the reference menu
    wrong = dict(good, target="api")
    with pytest.raises(ConfigError, match="target 'api' for kind 'cache-down': expected one of"):
        schedule_from_json({"budget_s": 4, "events": [wrong]}, "s.json", menu)


def test_a_project_without_faulted_drills_has_no_menu() -> None:
    with pytest.raises(ValueError, match="project 'p' has no drill with a fault"):
        drill_menu(_drills()[3:], "project 'p'")


@given(st.data())
def test_the_profiles_strategy_draws_from_the_menu(data: st.DataObject) -> None:
    menu: Menu = drill_menu(_drills(), "project 'p'")
    schedule = data.draw(profile_for("ci").strategy(menu))
    for e in schedule.events:
        menu.check(e)
    reference = data.draw(profile_for("ci").strategy())
    for e in reference.events:
        REFERENCE.check(e)
        assert e.kind != "halt"  # ci leaves the slow halt out

"""The incident clock and budgets under an injected clock: no sleeps."""

from __future__ import annotations

import pytest

from drillbook.errors import ConfigError, SLABreached
from drillbook.sla import Budget, IncidentClock, Phase, evaluate, get_profile


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drill_clock(*steps: tuple[float, Phase]) -> tuple[IncidentClock, Ticks]:
    ticks = Ticks()
    clock = IncidentClock(clock=ticks, wall=lambda: 0.0)
    for at, phase in steps:
        ticks.now = at
        clock.mark(phase)
    return clock, ticks


def test_measures_run_from_the_fault_in_effect_not_from_injection() -> None:
    clock, _ = drill_clock(
        (100, Phase.INJECTED),
        (103, Phase.ACTIVE),
        (110, Phase.DETECTED_ALERT),
        (115, Phase.RESPONDED),
        (160, Phase.RECOVERED),
    )
    budgets = [
        Budget("time_to_detect", 10),
        Budget("time_to_respond", 5),
        Budget("time_to_recover", 57),
    ]
    assert evaluate(clock, budgets) == []
    tight = [Budget("time_to_recover", 56.5, "runbook line 81")]
    [breach] = evaluate(clock, tight)
    assert breach.observed_s == pytest.approx(57.0)
    err = breach.error()
    assert isinstance(err, SLABreached)
    assert (err.phase, err.budget_s) == ("time_to_recover", 56.5)
    assert "over by 0.5s" in str(err)
    assert "runbook line 81" in str(err)
    assert "--drill-profile" in str(err)


def test_detection_is_the_earlier_of_probe_and_alert() -> None:
    clock, _ = drill_clock((0, Phase.ACTIVE), (2, Phase.DETECTED_PROBE), (9, Phase.DETECTED_ALERT))
    assert evaluate(clock, [Budget("time_to_detect", 2.5)]) == []
    [late_alert] = evaluate(clock, [Budget("time_to_alert", 5)])
    assert late_alert.observed_s == pytest.approx(9)


def test_a_phase_that_never_comes_breaches_once_the_budget_has_passed() -> None:
    clock, ticks = drill_clock((0, Phase.ACTIVE))
    ticks.now = 30
    assert evaluate(clock, [Budget("time_to_recover", 60)]) == []
    ticks.now = 61
    [breach] = evaluate(clock, [Budget("time_to_recover", 60)])
    assert not breach.reached
    assert "never reached" in str(breach.error())


def test_first_mark_counts_and_steps_are_timed() -> None:
    clock, ticks = drill_clock((0, Phase.ACTIVE), (5, Phase.RECOVERED), (9, Phase.RECOVERED))
    assert clock.between(Phase.ACTIVE, Phase.RECOVERED) == 5
    ticks.now = 10
    clock.mark(Phase.STEP_STARTED, step="rollout restart")
    ticks.now = 13.5
    clock.mark(Phase.STEP_FINISHED, step="rollout restart")
    assert clock.step_durations() == {"rollout restart": pytest.approx(3.5)}


def test_profiles_tighten_and_never_loosen() -> None:
    runbook = Budget("time_to_recover", 600, "runbook")
    ci = get_profile("ci").tighten(runbook)
    assert ci.seconds == 90
    assert "tightened by profile 'ci'" in ci.source
    assert get_profile("gameday").tighten(runbook) == runbook
    small = Budget("time_to_recover", 20)
    assert get_profile("ci").tighten(small).seconds == pytest.approx(5)


def test_bad_budgets_and_profiles_are_named() -> None:
    with pytest.raises(ConfigError, match="unknown measure 'time_to_party'"):
        Budget("time_to_party", 1)
    with pytest.raises(ConfigError, match="not a positive number"):
        Budget("time_to_recover", 0)
    with pytest.raises(ConfigError, match="unknown drill profile 'weekly'"):
        get_profile("weekly")


def test_stage_windows_run_from_the_fault_to_the_stage_done() -> None:
    ticks = Ticks()
    clock = IncidentClock(clock=ticks, wall=lambda: 0.0)
    for at, phase, stage in [
        (10, Phase.ACTIVE, None),
        (40, Phase.STAGE_DONE, "Immediate Actions"),
        (400, Phase.STAGE_DONE, "Investigation"),
    ]:
        ticks.now = at
        clock.mark(phase, step=stage)
    budgets = [
        Budget("window:Immediate Actions", 300, "runbook:493"),
        Budget("window:Investigation", 300, "runbook:509"),
        Budget("window:Containment", 3600, "runbook:524"),
        Budget("time_to_recover", 1000),
    ]
    [late] = evaluate(clock, budgets)
    assert (late.budget.measure, late.observed_s, late.reached) == (
        "window:Investigation",
        390,
        True,
    )
    assert "window:Investigation took 390.0s, budget 300.0s" in str(late.error())
    ticks.now = 3700  # Containment never finished and its hour has passed
    breached = evaluate(clock, budgets)
    assert [b.budget.measure for b in breached] == [
        "window:Investigation",
        "window:Containment",
        "time_to_recover",
    ]
    assert not breached[1].reached


def test_a_window_needs_a_stage_name() -> None:
    with pytest.raises(ConfigError, match="unknown measure 'window:'"):
        Budget("window:", 10)

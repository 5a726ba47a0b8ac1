"""Regression detection on synthetic histories (Hypothesis)."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from drillbook.errors import ConfigError
from drillbook.reporting import DrillRecord, RunRecord, TrendPolicy, find_regressions

POLICY = TrendPolicy(last=5, threshold=0.25, min_delta_s=1.0, min_runs=3)
seconds = st.floats(min_value=0.5, max_value=120, allow_nan=False, allow_infinity=False)


def _history(
    mttrs: list[float | None], outcomes: list[str] | None = None, mttd: float = 3.0
) -> list[RunRecord]:
    outcomes = outcomes or ["passed"] * len(mttrs)
    return [
        RunRecord(
            f"run-{i:03d}",
            f"2026-12-01T{i % 24:02d}:00:00Z",
            "ci",
            "docker",
            None,
            (DrillRecord("backend-killed", outcome, "TradingBotDown", mttd, mttr),),
        )
        for i, (mttr, outcome) in enumerate(zip(mttrs, outcomes, strict=True))
    ]


def _measures(history: list[RunRecord], policy: TrendPolicy = POLICY) -> set[str]:
    return {r.measure for r in find_regressions(history, policy)}


@given(value=seconds, runs=st.integers(min_value=1, max_value=30))
def test_a_constant_history_never_regresses(value: float, runs: int) -> None:
    assert find_regressions(_history([value] * runs, mttd=value), POLICY) == []


@given(
    older=st.lists(seconds, min_size=3, max_size=12),
    factor=st.floats(min_value=1.0, max_value=10.0),
)
def test_a_latest_mttr_above_threshold_and_min_delta_is_flagged(
    older: list[float], factor: float
) -> None:
    median = statistics.median(older[-POLICY.last :])
    latest = max(median * (1 + POLICY.threshold), median + POLICY.min_delta_s) * factor * 1.001
    [regression] = find_regressions(_history([*older, latest]), POLICY)
    assert regression.measure == "mttr"
    assert regression.baseline == pytest.approx(median)
    assert regression.latest == latest
    assert regression.runs == min(len(older), POLICY.last)
    assert "median of the previous" in regression.describe()


@given(
    older=st.lists(seconds, min_size=3, max_size=12),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_a_latest_mttr_within_the_threshold_is_not_flagged(
    older: list[float], fraction: float
) -> None:
    median = statistics.median(older[-POLICY.last :])
    latest = median * (1 + POLICY.threshold) * fraction
    assert "mttr" not in _measures(_history([*older, latest]))


@given(
    older=st.lists(st.floats(min_value=0.5, max_value=3.0), min_size=3, max_size=12),
    jitter=st.floats(0, 0.99),
)
def test_a_rise_below_the_minimum_delta_is_jitter(older: list[float], jitter: float) -> None:
    median = statistics.median(older[-POLICY.last :])
    # far above the threshold in relative terms, but under a second in absolute ones
    latest = median + jitter * POLICY.min_delta_s
    assume(latest - median < POLICY.min_delta_s)
    assert "mttr" not in _measures(_history([*older, latest]))


@given(older=st.lists(seconds, min_size=3, max_size=5), latest=seconds, data=st.data())
def test_the_order_of_older_runs_does_not_matter(
    older: list[float], latest: float, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(older))
    assert _measures(_history([*older, latest])) == _measures(_history([*shuffled, latest]))


@given(
    ancient=st.lists(seconds, max_size=10),
    recent=st.lists(seconds, min_size=5, max_size=5),
    latest=seconds,
)
def test_only_the_last_n_runs_count(
    ancient: list[float], recent: list[float], latest: float
) -> None:
    def judged(history: list[RunRecord]) -> list[tuple[str, float | None, float | None, int]]:
        return [
            (r.measure, r.latest, r.baseline, r.runs) for r in find_regressions(history, POLICY)
        ]

    assert judged(_history([*ancient, *recent, latest])) == judged(_history([*recent, latest]))


@given(older=st.lists(seconds, max_size=2), latest=seconds)
def test_too_few_runs_judge_no_measure(older: list[float], latest: float) -> None:
    assert _measures(_history([*older, latest * 100])) <= {"outcome"}


@given(
    older=st.lists(seconds, min_size=1, max_size=8),
    outcome=st.sampled_from(["breached", "failed", "aborted"]),
)
def test_passed_to_not_passed_is_flagged_and_not_passed_twice_is_not(
    older: list[float], outcome: str
) -> None:
    flips = [
        r
        for r in find_regressions(_history([*older, None], [*["passed"] * len(older), outcome]))
        if r.measure == "outcome"
    ]
    assert [(f.was, f.now) for f in flips] == [("passed", outcome)]
    again = _history([*older, None, None], [*["passed"] * len(older), outcome, outcome])
    assert "outcome" not in _measures(again)


@given(older=st.lists(st.one_of(st.none(), seconds), min_size=3, max_size=12))
def test_runs_without_a_measure_are_left_out_of_the_median(older: list[float | None]) -> None:
    values = [v for v in older[-POLICY.last :] if v is not None]
    assume(len(values) >= POLICY.min_runs)
    latest = (statistics.median(values) + POLICY.min_delta_s) * 2
    assert "mttr" in _measures(_history([*older, latest]))


def test_mttd_regresses_on_its_own() -> None:
    history = _history([6.0] * 5, mttd=3.0)
    history.append(_history([6.0], mttd=9.0)[0])
    assert _measures(history) == {"mttd"}


def test_drills_are_judged_separately() -> None:
    a = _history([5.0, 5.0, 5.0, 20.0])
    b = [
        RunRecord(r.run_id, r.started, drills=(DrillRecord("other", "passed", mttr_s=5.0),))
        for r in a
    ]
    merged = [
        RunRecord(x.run_id, x.started, drills=x.drills + y.drills)
        for x, y in zip(a, b, strict=True)
    ]
    assert [(r.drill, r.measure) for r in find_regressions(merged, POLICY)] == [
        ("backend-killed", "mttr")
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"last": 0}, "--last 0"),
        ({"threshold": -0.1}, "--threshold -0.1"),
        ({"min_runs": 0}, "--min-runs 0"),
    ],
)
def test_a_bad_policy_is_a_config_error(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrendPolicy(**kwargs)  # type: ignore[arg-type]

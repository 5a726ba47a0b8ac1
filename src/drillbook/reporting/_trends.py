"""Regressions across runs: a drill's latest MTTD or MTTR against the median of its previous
runs, and an outcome that flipped from passed. Pure functions over the history."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from drillbook.errors import ConfigError
from drillbook.reporting._history import DrillRecord, RunRecord

__all__ = ["Point", "Regression", "TrendPolicy", "find_regressions", "series"]

MEASURES = {"mttd": "time to detect", "mttr": "time to recover"}


@dataclass(frozen=True)
class TrendPolicy:
    """A measure regresses when latest > (1 + threshold) x median of the previous ``last`` runs
    that measured it, and by at least ``min_delta_s`` (0.1 s of polling jitter is no regression),
    given at least ``min_runs`` such runs."""

    last: int = 10
    threshold: float = 0.25
    min_delta_s: float = 1.0
    min_runs: int = 3

    def __post_init__(self) -> None:
        if self.last < 1:
            raise ConfigError(f"--last {self.last}: expected at least 1 previous run")
        if not self.threshold >= 0:
            raise ConfigError(f"--threshold {self.threshold}: expected a fraction >= 0 (0.25)")
        if not self.min_delta_s >= 0:
            raise ConfigError(f"--min-delta {self.min_delta_s}: expected seconds >= 0")
        if self.min_runs < 1:
            raise ConfigError(f"--min-runs {self.min_runs}: expected at least 1")


@dataclass(frozen=True)
class Point:
    """One run of one drill."""

    run_id: str
    started: str
    record: DrillRecord


@dataclass(frozen=True)
class Regression:
    drill: str
    measure: str  # mttd | mttr | outcome
    run_id: str
    latest: float | None
    baseline: float | None  # the median it is compared with
    runs: int  # how many previous runs the baseline is the median of
    was: str = ""  # outcome: the previous outcome
    now: str = ""

    def describe(self) -> str:
        if self.measure == "outcome":
            return f"{self.drill}: outcome {self.was} -> {self.now} in run {self.run_id}"
        assert self.latest is not None
        assert self.baseline is not None
        up = (self.latest / self.baseline - 1) * 100 if self.baseline > 0 else float("inf")
        return (
            f"{self.drill}: {MEASURES[self.measure]} {self.latest:.1f}s in run {self.run_id}, "
            f"median of the previous {self.runs} run(s) {self.baseline:.1f}s (+{up:.0f}%)"
        )


def series(history: Sequence[RunRecord]) -> dict[str, list[Point]]:
    """Each drill's runs, in history order."""
    found: dict[str, list[Point]] = {}
    for run in history:
        for record in run.drills:
            found.setdefault(record.drill, []).append(Point(run.run_id, run.started, record))
    return found


def _value(point: Point, measure: str) -> float | None:
    return point.record.mttd_s if measure == "mttd" else point.record.mttr_s


def find_regressions(
    history: Sequence[RunRecord], policy: TrendPolicy | None = None
) -> list[Regression]:
    """The regressions of each drill's latest run; only the previous ``policy.last`` runs count,
    and their order does not (a median)."""
    policy = policy or TrendPolicy()
    found = []
    for drill, points in series(history).items():
        latest, previous = points[-1], points[:-1][-policy.last :]
        if (
            previous
            and previous[-1].record.outcome == "passed"
            and latest.record.outcome != "passed"
        ):
            found.append(
                Regression(
                    drill,
                    "outcome",
                    latest.run_id,
                    None,
                    None,
                    len(previous),
                    was="passed",
                    now=latest.record.outcome,
                )
            )
        for measure in MEASURES:
            value = _value(latest, measure)
            before = [v for v in (_value(p, measure) for p in previous) if v is not None]
            if value is None or len(before) < policy.min_runs:
                continue
            median = statistics.median(before)
            if value > (1 + policy.threshold) * median and value - median >= policy.min_delta_s:
                found.append(Regression(drill, measure, latest.run_id, value, median, len(before)))
    return found

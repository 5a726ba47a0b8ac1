"""Budgets: how long a measured stretch of the incident clock may take, and where that was said."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from drillbook.errors import ConfigError, SLABreached
from drillbook.sla._clock import IncidentClock, Phase

__all__ = [
    "MEASURES",
    "WINDOW",
    "Breach",
    "Budget",
    "Measure",
    "Profile",
    "evaluate",
    "get_profile",
    "measure_named",
]


@dataclass(frozen=True)
class Measure:
    """A stretch of the clock: from the first ``start`` mark to the first ``end`` mark."""

    name: str
    start: Phase
    end: Phase
    description: str
    stage: str | None = None  # for stage windows: the end is that stage's STAGE_DONE mark

    def observe(self, clock: IncidentClock) -> float | None:
        start = clock.detected() if self.start == Phase.DETECTED_PROBE else clock.first(self.start)
        end = (
            clock.detected()
            if self.end == Phase.DETECTED_PROBE
            else clock.first(self.end, step=self.stage)
        )
        if start is None or end is None:
            return None
        return end.at - start.at


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            "time_to_detect",
            Phase.ACTIVE,
            Phase.DETECTED_PROBE,
            "fault in effect -> first detection",
        ),
        Measure(
            "time_to_alert", Phase.ACTIVE, Phase.DETECTED_ALERT, "fault in effect -> alert firing"
        ),
        Measure(
            "time_to_respond", Phase.DETECTED_PROBE, Phase.RESPONDED, "detected -> response started"
        ),
        Measure("time_to_recover", Phase.ACTIVE, Phase.RECOVERED, "fault in effect -> recovered"),
        Measure(
            "time_to_clear",
            Phase.RECOVERED,
            Phase.ALERT_RESOLVED,
            "recovered -> the alert resolved",
        ),
    )
}


WINDOW = "window:"


def measure_named(name: str) -> Measure:
    """A fixed measure, or a stage window ``window:<stage>``: fault in effect -> the stage's
    last step finished (the runbook's "Immediate Actions (< 5 minutes)" and the like)."""
    if name.startswith(WINDOW) and len(name) > len(WINDOW):
        stage = name[len(WINDOW) :]
        return Measure(
            name, Phase.ACTIVE, Phase.STAGE_DONE, f"fault in effect -> {stage} done", stage
        )
    return MEASURES[name]


@dataclass(frozen=True)
class Budget:
    """``measure`` may take at most ``seconds``; ``source`` says who said so (a runbook line)."""

    measure: str
    seconds: float
    source: str = ""

    def __post_init__(self) -> None:
        if self.measure not in MEASURES and not (
            self.measure.startswith(WINDOW) and len(self.measure) > len(WINDOW)
        ):
            raise ConfigError(
                f"budget for unknown measure {self.measure!r}",
                hint=f"measures are: {', '.join(MEASURES)}, or window:<stage>",
            )
        if not self.seconds > 0:
            raise ConfigError(
                f"budget {self.measure}: {self.seconds!r} is not a positive number of seconds"
            )


@dataclass(frozen=True)
class Breach:
    budget: Budget
    observed_s: float
    reached: bool  # False: the end phase never came; observed is how long was waited

    def error(self) -> SLABreached:
        phase = self.budget.measure if self.reached else f"{self.budget.measure} (never reached)"
        return SLABreached(phase, self.observed_s, self.budget.seconds, self.budget.source)


@dataclass(frozen=True)
class Profile:
    """Intensity and timing of a run. Budgets are tightened to ``factor`` of the runbook's, and
    to any absolute ``limits`` (seconds per measure), whichever is smaller; never loosened."""

    name: str
    factor: float = 1.0
    limits: Mapping[str, float] = field(default_factory=dict)
    settle_s: float = 3.0
    description: str = ""

    def tighten(self, budget: Budget) -> Budget:
        seconds = budget.seconds * self.factor
        if budget.measure in self.limits:
            seconds = min(seconds, self.limits[budget.measure])
        if seconds >= budget.seconds:
            return budget
        return replace(
            budget, seconds=seconds, source=f"{budget.source}; tightened by profile {self.name!r}"
        )


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "ci",
            factor=0.25,
            limits={"time_to_detect": 15, "time_to_respond": 30, "time_to_recover": 90},
            settle_s=2.0,
            description="fast and strict: catches regressions in minutes",
        ),
        Profile(
            "nightly",
            factor=0.5,
            limits={"time_to_detect": 30, "time_to_recover": 180},
            settle_s=5.0,
            description="every scenario, budgets at half the runbook's",
        ),
        Profile(
            "gameday",
            factor=1.0,
            settle_s=10.0,
            description="the runbook's own budgets, humans in the loop",
        ),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"unknown drill profile {name!r}", hint=f"profiles are: {', '.join(PROFILES)}"
        ) from None


def evaluate(clock: IncidentClock, budgets: Iterable[Budget]) -> list[Breach]:
    """Every budget the clock breached. A measure whose end never came counts as breached with
    the time waited so far (the drill gave up or is still running)."""
    breaches = []
    # in the order an incident unfolds, the earliest breach first; stage windows close while
    # the runbook's steps run, before recovery
    order = [*MEASURES]
    order.insert(order.index("time_to_recover"), WINDOW)

    def rank(b: Budget) -> int:
        return order.index(WINDOW if b.measure.startswith(WINDOW) else b.measure)

    for budget in sorted(budgets, key=rank):
        measure = measure_named(budget.measure)
        observed = measure.observe(clock)
        if observed is None:
            waited = clock.elapsed(
                measure.start if measure.start != Phase.DETECTED_PROBE else Phase.ACTIVE
            )
            if waited is not None and waited > budget.seconds:
                breaches.append(Breach(budget, waited, reached=False))
            continue
        if observed > budget.seconds:
            breaches.append(Breach(budget, observed, reached=True))
    return breaches

"""Health over a drill: the runner's polls, kept as transitions in the journal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from drillbook.drills import Drill, DrillRunner, Step
from drillbook.reporting import JsonJournal
from drillbook.reporting._health import MAX_TRANSITIONS, HealthLog
from drillbook.sla import Budget, Profile
from drillbook.waiting import Check


def test_only_transitions_are_kept_and_steady_polls_collapse_to_zero() -> None:
    log = HealthLog()
    log.reset("d")
    for at, ok in [
        (1.0, True),
        (2.0, True),
        (9.0, True),
        (10.5, False),
        (10.6, False),
        (12.0, True),
    ]:
        log.add("d", at, ok, "backend: refused" if not ok else "all probes pass")
    assert log.transitions("d", t0=10.0) == [
        {"t_s": 0.0, "ok": True, "detail": "all probes pass"},
        {"t_s": 0.5, "ok": False, "detail": "backend: refused"},
        {"t_s": 2.0, "ok": True, "detail": "all probes pass"},
    ]


def test_a_flapping_probe_keeps_the_journal_bounded() -> None:
    log = HealthLog()
    for i in range(MAX_TRANSITIONS * 3):
        log.add("d", float(i), i % 2 == 0, "flap")
    kept = log.transitions("d", t0=0.0)
    assert len(kept) == MAX_TRANSITIONS
    assert kept[-1]["t_s"] == MAX_TRANSITIONS * 3 - 1  # the latest are kept


@dataclass
class _Service:
    """A fake service the fault breaks and the runbook step repairs."""

    up: bool = True
    log: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Break:
    service: _Service

    @property
    def name(self) -> str:
        return "Break(svc)"

    def inject(self, lab: object) -> None:
        self.service.up = False

    def verify_active(self, lab: object) -> Check:
        return Check(not self.service.up, "down" if not self.service.up else "still up")

    def revert(self, lab: object) -> None:
        self.service.up = True


@dataclass(frozen=True)
class _Up:
    service: _Service

    @property
    def name(self) -> str:
        return "svc up"

    def check(self, lab: object) -> Check:
        return Check(self.service.up, "answers" if self.service.up else "connection refused")


def test_the_runner_reports_health_and_the_journal_keeps_its_transitions(tmp_path: Path) -> None:
    svc = _Service()
    drill = Drill(
        "svc-down",
        "TradingBotDown",
        _Break(svc),  # type: ignore[arg-type]
        (_Up(svc),),  # type: ignore[arg-type]
        (Step("restart svc", lambda p: setattr(svc, "up", True), "runbook line 1"),),
        (Budget("time_to_recover", 10, "test"),),
    )
    journal = JsonJournal(tmp_path, "run-h", "test")
    profile = Profile("test", settle_s=0.3)
    result = DrillRunner(object(), profile, [journal], detection=None).run(drill)  # type: ignore[arg-type]
    assert result.outcome == "passed", result.error
    [entry] = json.loads(journal.path.read_text())["drills"]
    states = [(h["ok"], h["detail"]) for h in entry["health"]]
    assert states[:3] == [
        (True, "all probes pass"),
        (False, "svc up: connection refused"),
        (True, "all probes pass"),
    ]
    active = next(m["t_s"] for m in entry["timeline"] if m["phase"] == "fault_active")
    detected = next(m["t_s"] for m in entry["timeline"] if m["phase"] == "detected_probe")
    failing_from = entry["health"][1]["t_s"]
    assert active <= failing_from <= detected + 0.01
    assert entry["health"][0]["t_s"] == 0.0


def test_the_last_poll_closes_the_band() -> None:
    log = HealthLog()
    log.reset("d")
    for at, ok in [(10.0, True), (11.0, False), (13.0, True), (14.0, True), (17.5, True)]:
        log.add("d", at, ok, "x")
    assert [(h["t_s"], h["ok"]) for h in log.transitions("d", t0=10.0)] == [
        (0.0, True),
        (1.0, False),
        (3.0, True),
        (7.5, True),
    ]

"""The executor's timeline with fakes (its own logic): order, offsets, always revert."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drillbook.schedules import FaultEvent, Schedule, _executor, run_schedule
from drillbook.waiting import Check


@dataclass
class FakeFault:
    label: str
    calls: list[str]
    fail_inject: bool = False

    @property
    def name(self) -> str:
        return self.label

    def inject(self, lab: Any) -> None:
        self.calls.append(f"inject {self.label}")
        if self.fail_inject:
            raise OSError("container not running")

    def verify_active(self, lab: Any) -> Check:
        return Check(False)

    def revert(self, lab: Any) -> None:
        self.calls.append(f"revert {self.label}")


@dataclass
class FakeClock:
    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


class FakeLab:
    name = "fake-lab"


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    calls: list[str] = []
    monkeypatch.setenv("DRILLBOOK_LOCK_DIR", str(tmp_path))

    def fault_for(e: FaultEvent) -> FakeFault:
        return FakeFault(f"{e.kind}/{e.target}", calls, fail_inject=e.target == "redis")

    monkeypatch.setattr(_executor, "fault_for", fault_for)
    return calls


def test_timeline_injects_and_reverts_at_the_offsets(faults: list[str]) -> None:
    clock = FakeClock()
    schedule = Schedule(
        (FaultEvent("kill", "backend", 0, 4), FaultEvent("partition", "postgres", 1, 1)), 5
    )
    run = run_schedule(FakeLab(), schedule, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert faults == [
        "inject kill/backend",
        "inject partition/postgres",
        "revert partition/postgres",
        "revert kill/backend",
    ]
    assert clock.slept == [1.0, 1.0, 2.0]
    assert run.revert_errors == []


def test_a_failed_injection_is_logged_and_still_reverted(faults: list[str]) -> None:
    clock = FakeClock()
    schedule = Schedule((FaultEvent("kill", "redis", 0, 1),), 2)
    run = run_schedule(FakeLab(), schedule, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert faults == ["inject kill/redis", "revert kill/redis"]
    assert "container not running" in run.log[0]


def test_ctrl_c_reverts_every_active_fault(faults: list[str]) -> None:
    clock = FakeClock()

    def interrupted(s: float) -> None:
        raise KeyboardInterrupt

    schedule = Schedule(
        (FaultEvent("kill", "backend", 0, 4), FaultEvent("partition", "postgres", 0, 4)), 5
    )
    with pytest.raises(KeyboardInterrupt):
        run_schedule(FakeLab(), schedule, clock=clock, sleep=interrupted)  # type: ignore[arg-type]
    assert faults == [
        "inject kill/backend",
        "inject partition/postgres",
        "revert partition/postgres",
        "revert kill/backend",
    ]

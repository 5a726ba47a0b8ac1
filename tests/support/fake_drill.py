"""Drills on fakes (no lab, no Docker) for the runner's own logic: a service the fault breaks,
a probe of it, and a hook in the revert (where the abort tests press Ctrl-C)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drillbook.drills import Drill, Step
from drillbook.sla import Budget
from drillbook.waiting import Check

__all__ = ["FakeLab", "Service", "breached_drill", "interrupt", "signal_self"]


@dataclass
class Service:
    up: bool = True
    broken: int = 0  # how many times the fault was injected


@dataclass(frozen=True)
class Break:
    service: Service
    on_revert: Callable[[], None] = field(default=lambda: None)

    @property
    def name(self) -> str:
        return "Break(svc)"

    def inject(self, lab: object) -> None:
        self.service.up = False
        self.service.broken += 1

    def verify_active(self, lab: object) -> Check:
        return Check(not self.service.up, "down" if not self.service.up else "still up")

    def revert(self, lab: object) -> None:
        self.on_revert()
        self.service.up = True


@dataclass(frozen=True)
class Up:
    service: Service

    @property
    def name(self) -> str:
        return "svc up"

    def check(self, lab: object) -> Check:
        return Check(self.service.up, "answers" if self.service.up else "connection refused")


class FakeLab:
    """Enough of a lab for the residue check (``lab_state``): no service, nothing changed."""

    def services(self) -> list[str]:
        return []

    def status(self) -> list[object]:
        return []


def breached_drill(
    name: str,
    service: Service,
    *,
    on_revert: Callable[[], None] = lambda: None,
    late: bool = False,
) -> Drill:
    """A drill that breaches ``time_to_recover`` (0.1 s): its step never repairs the service
    (the breach raised while the fault is in), or, ``late``, repairs it after 0.3 s (the breach
    found when the clock is evaluated, after the revert)."""

    def step(platform: object) -> None:
        if late:
            time.sleep(0.3)
            service.up = True

    return Drill(
        name,
        "TradingBotDown",
        Break(service, on_revert),  # type: ignore[arg-type]
        (Up(service),),  # type: ignore[arg-type]
        (Step("restart svc", step, "runbook line 1"),),
        (Budget("time_to_recover", 0.1, "test budget"),),
    )


def interrupt() -> None:
    """A revert interrupted as Ctrl-C would, with no one holding the abort off."""
    raise KeyboardInterrupt


def signal_self(sig: signal.Signals) -> Callable[[], None]:
    """A revert during which the process receives ``sig`` (the handler runs before it ends)."""

    def send() -> None:
        os.kill(os.getpid(), sig)
        time.sleep(0.05)  # the signal's handler runs here, in the middle of the revert

    return send

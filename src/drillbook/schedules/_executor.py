"""Run a schedule on a Docker lab: a timeline of inject and revert at the events' offsets.

Every injected fault is reverted in ``finally`` (also on Ctrl-C and SIGTERM, which the CLI
turns into KeyboardInterrupt), newest first; then the lab is waited back to steady state.
A fault that cannot be injected (the container it acts in is down because of another event)
is recorded and skipped: overlapping schedules meet that, and it is not a failure of the
system under test.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drillbook.environments import LabLock
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import DrillbookError
from drillbook.faults import (
    BlockPeer,
    ExchangeRateLimited,
    ExchangeUnreachable,
    Fault,
    KillContainer,
)
from drillbook.schedules._model import FaultEvent, Schedule

if TYPE_CHECKING:
    from drillbook.schedules._menu import Menu
from drillbook.waiting import Check

__all__ = ["Halt", "ScheduleRun", "fault_for", "run_schedule"]

_PEER_PORTS = {"postgres": (5432,), "redis": (6379,), "exchange": (8101, 8102)}


@dataclass(frozen=True)
class Halt:
    """HighRiskExposure's response as a schedule event: emergency close, then
    ``ALLOW_NEW_POSITIONS=false`` (a rollout). What it observes feeds two invariants: exposure
    under the limit after the close, no position opened while halted. Revert re-enables."""

    target: str = "backend"
    observed: dict[str, Check] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return "emergency close and halt new positions"

    def inject(self, lab: DockerLab) -> None:
        platform = DockerPlatform(lab)
        status, body = platform.http_call(
            "backend",
            "api",
            "/api/risk/emergency-close",
            method="POST",
            body={"reason": "schedule"},
            timeout_s=10,
        )
        _, risk = platform.http_call("backend", "api", "/api/risk", timeout_s=5)
        ratio, limit = float(risk["exposure_ratio"]), float(risk["exposure_limit_ratio"])
        # the exposure is what must hold; a close that failed (500 while PostgreSQL is down)
        # with the exposure already under the limit is reported, not a failure
        failed = body.get("failed") if isinstance(body, dict) else None
        self.observed["exposure"] = Check(
            ratio <= limit,
            f"emergency close -> {status}"
            + (f" ({len(failed)} position(s) not closed: {failed[:3]})" if failed else "")
            + f"; exposure {ratio:.3f} of limit {limit:g}",
        )
        # not waiting for health: a fault overlapping the halt (postgres down) must not stall
        # the timeline; steady state is awaited after the schedule
        platform.set_env("backend", {"ALLOW_NEW_POSITIONS": "false"}, wait=False)
        c = lab.container("backend")
        c.reload()
        self.observed["since"] = Check(True, _started(c))

    def verify_active(self, lab: DockerLab) -> Check:
        c = lab.container("backend")
        c.reload()
        halted = "ALLOW_NEW_POSITIONS=false" in (c.attrs["Config"]["Env"] or [])
        return Check(halted, "ALLOW_NEW_POSITIONS=false" if halted else "new positions allowed")

    def revert(self, lab: DockerLab) -> None:
        """Re-enable new positions; the halt's window (the halted container's start, the
        re-enabled one's) is kept, and the positions opened in it are counted afterwards, when
        the database answers again (it may be down now, by another event)."""
        if not self.verify_active(lab).ok:
            return
        DockerPlatform(lab).set_env("backend", {"ALLOW_NEW_POSITIONS": None}, wait=False)
        c = lab.container("backend")
        c.reload()
        self.observed["until"] = Check(True, _started(c))

    def positions_opened(self, lab: DockerLab) -> Check | None:
        """No position opened while halted: counted in the halt's window (None: no halt)."""
        since, until = self.observed.get("since"), self.observed.get("until")
        if since is None:
            return None
        bound = until.detail if until is not None else None
        rows = DockerPlatform(lab).sql(
            "SELECT count(*) FROM positions WHERE opened_at > %s::timestamptz "
            "AND opened_at < coalesce(%s::timestamptz, now())",
            (since.detail, bound),
        )
        n = rows[0][0] if rows else "?"
        return Check(
            rows == [(0,)],
            f"{n} position(s) opened while halted ({since.detail} to {bound or 'now'})",
        )


def _started(container: object) -> str:
    started: str = container.attrs["State"]["StartedAt"]  # type: ignore[attr-defined]
    return started[:26].rstrip("Z") + "Z"  # RFC 3339 with nanoseconds: PostgreSQL takes micro


def fault_for(event: FaultEvent) -> Fault[DockerLab]:
    """The fault an event injects (the menu of :data:`~drillbook.schedules.KINDS`)."""
    if event.kind == "kill":
        return KillContainer(event.target)
    if event.kind == "partition":
        first, *more = _PEER_PORTS[event.target]
        return BlockPeer("backend", first, tuple(more))
    if event.kind == "exchange_429":
        return ExchangeRateLimited("both", duration_s=event.duration_s + 5)
    if event.kind == "exchange_outage":
        return ExchangeUnreachable("both")
    return Halt()


@dataclass
class ScheduleRun:
    """What happened: each event's fault, what went wrong injecting or reverting it."""

    schedule: Schedule
    faults: list[Fault[DockerLab]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    revert_errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def observed(self, key: str) -> list[Check]:
        return [f.observed[key] for f in self.faults if isinstance(f, Halt) and key in f.observed]


def run_schedule(
    lab: DockerLab,
    schedule: Schedule,
    *,
    menu: Menu | None = None,
    say: Callable[[str], None] = lambda _msg: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ScheduleRun:
    """Inject and revert each event at its offsets, each event's fault from ``menu`` (default:
    the reference stack's); revert everything on every exit path. Holds the lab's lock
    (:class:`~drillbook.environments.LabInUse` when another run has it)."""
    make = menu.fault if menu is not None else fault_for
    run = ScheduleRun(schedule, [make(e) for e in schedule.events])
    timeline = sorted(
        [(e.start_s, 1, i) for i, e in enumerate(schedule.events)]
        + [(e.end_s, 0, i) for i, e in enumerate(schedule.events)]
    )  # at one instant reverts (0) come before injections (1)
    active: list[int] = []
    t0 = clock()
    with LabLock(lab.name).held():
        try:
            for at, inject, i in timeline:
                if (wait := at - (clock() - t0)) > 0:
                    sleep(wait)
                event, fault = schedule.events[i], run.faults[i]
                if inject:
                    try:
                        active.append(i)  # revert even a half-done injection
                        fault.inject(lab)
                        run.log.append(f"{clock() - t0:6.1f}s inject {event.label()}")
                    except (DrillbookError, OSError, KeyError, ValueError) as exc:
                        run.log.append(f"{clock() - t0:6.1f}s inject {event.label()}: {exc}")
                elif i in active:
                    active.remove(i)
                    _revert(lab, fault, run, f"{clock() - t0:6.1f}s revert {event.label()}")
        finally:
            for i in reversed(active):
                _revert(lab, run.faults[i], run, f"revert {schedule.events[i].label()} (cleanup)")
            run.wall_s = clock() - t0
    for line in run.log:
        say(line)
    return run


def _revert(lab: DockerLab, fault: Fault[DockerLab], run: ScheduleRun, line: str) -> None:
    try:
        fault.revert(lab)
        run.log.append(line)
    except Exception as exc:  # one failed revert must not keep the others from running
        run.revert_errors.append(f"{fault.name}: {type(exc).__name__}: {exc}")
        run.log.append(f"{line}: FAILED {exc}")
        with contextlib.suppress(Exception):
            fault.revert(lab)  # once more: reverts are idempotent

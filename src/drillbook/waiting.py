"""Waiting as one strategy object: a timeout, a poll interval, and what was last observed.

Probes, health checks, recovery detection and SLA timers all wait through :class:`Wait`, so a
timeout always reads the same way: what was awaited, for how long, what was seen last, and a hint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from drillbook.errors import WaitTimeout

__all__ = ["Check", "Wait"]


@dataclass(frozen=True)
class Check:
    """The outcome of one look at the world: ``ok`` plus a one-line ``detail`` for humans.

    ``final`` marks a failure that waiting cannot fix (a container that exited): the wait
    stops at once instead of running out its timeout.
    """

    ok: bool
    detail: str = ""
    final: bool = False


@dataclass(frozen=True)
class Wait:
    """Poll a check until it passes or ``timeout_s`` runs out.

    ``clock`` and ``sleep`` are injectable so time-dependent logic is tested without sleeping.
    """

    timeout_s: float = 30.0
    poll_s: float = 0.1
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def with_timeout(self, timeout_s: float) -> Wait:
        return replace(self, timeout_s=timeout_s)

    def with_poll_interval(self, poll_s: float) -> Wait:
        return replace(self, poll_s=poll_s)

    def until(
        self,
        check: Callable[[], Check],
        what: str,
        *,
        hint: str | None = None,
        retry_on: tuple[type[Exception], ...] = (Exception,),
    ) -> Check:
        """Return the first passing :class:`Check`; raise :class:`WaitTimeout` with the last seen.

        An exception of ``retry_on`` raised by ``check`` counts as a failed look (its text is
        the observation); any other propagates at once (``retry_on=()``: every exception, for
        a check whose errors are not a state to wait through, such as an API refusal).
        """
        deadline = self.clock() + self.timeout_s
        observed = "nothing yet"
        while True:
            try:
                result = check()
            except retry_on as exc:  # a probe that raises is a failed look, not a crash
                result = Check(False, f"{type(exc).__name__}: {exc}")
            if result.ok:
                return result
            observed = result.detail or observed
            remaining = deadline - self.clock()
            if remaining <= 0 or result.final:
                raise WaitTimeout(what, self.timeout_s, observed, hint=hint)
            self.sleep(min(self.poll_s, remaining))

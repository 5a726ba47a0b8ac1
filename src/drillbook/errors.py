"""The one exception tree of drillbook.

Every error drillbook raises on purpose derives from :class:`DrillbookError`, so a caller
(the CLI, the pytest plugin, a user's script) can catch one class. Each message says what
was observed and, where there is one, a ``Hint:`` for what to do next::

    DrillbookError
    ├── ConfigError                 bad input: a file, a field, an option (names where)
    │   └── UnknownServiceError     a service name the lab does not declare
    ├── EngineError                 no usable Docker engine / cluster (permanent)
    ├── ImageError                  an image could not be built or is missing
    ├── RunbookParseError           the runbook's markdown is malformed (each problem with its line)
    ├── LabError                    the lab could not be brought up, inspected or removed
    │   ├── PortInUseError          a fixed host port is taken by someone else
    │   └── ServiceUnhealthy        a service did not become healthy in time
    ├── WaitTimeout                 a wait strategy ran out of time (carries what it saw)
    └── SLABreached                 a drill phase took longer than its budget (its numbers)

Later layers add their own subclasses here (runbook parsing, SLA breaches, faults).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DrillbookError",
    "EngineError",
    "ImageError",
    "LabError",
    "PortInUseError",
    "RunbookParseError",
    "SLABreached",
    "ServiceUnhealthy",
    "UnknownServiceError",
    "WaitTimeout",
]


class DrillbookError(Exception):
    """Root of every error drillbook raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nHint: {self.hint}"
        return self.message


class ConfigError(DrillbookError):
    """Bad input: a file, field or option that is not what was expected."""


class UnknownServiceError(ConfigError):
    """A service name that the lab's service catalogue does not declare."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(
            f"unknown service {name!r}",
            hint=f"the lab declares: {', '.join(self.known)}",
        )


class EngineError(DrillbookError):
    """No usable container engine (or cluster): retrying will not help until it is fixed."""


class ImageError(DrillbookError):
    """A lab image could not be built, or a needed image is missing."""


class LabError(DrillbookError):
    """The lab could not be brought up, inspected or torn down."""


class PortInUseError(LabError):
    """A fixed host port asked for a service is already taken."""

    def __init__(self, service: str, port: int) -> None:
        self.service = service
        self.port = port
        super().__init__(
            f"port 127.0.0.1:{port} for service {service!r} is already in use",
            hint=f"free the port, or choose another with --port {service}=PORT "
            f"(or --port {service}=0 for any free port)",
        )


class WaitTimeout(DrillbookError):
    """A wait ran out of time; carries what it was waiting for and what it last saw."""

    def __init__(
        self, what: str, timeout_s: float, observed: str, *, hint: str | None = None
    ) -> None:
        self.what = what
        self.timeout_s = timeout_s
        self.observed = observed
        super().__init__(
            f"timed out after {timeout_s:.1f}s waiting for {what}; last observed: {observed}",
            hint=hint,
        )


class ServiceUnhealthy(LabError):
    """A lab service did not become healthy; carries its last log lines."""

    def __init__(self, service: str, timeout_s: float, observed: str, logs: str) -> None:
        self.service = service
        self.timeout_s = timeout_s
        self.observed = observed
        self.logs = logs
        tail = "\n".join("    " + line for line in logs.strip().splitlines()[-15:])
        super().__init__(
            f"service {service!r} not healthy after {timeout_s:.1f}s; last observed: {observed}"
            + (f"\n  last log lines:\n{tail}" if tail else ""),
            hint=f"inspect with `docker logs` on the {service} container, "
            "or raise the start-up timeout with --timeout",
        )


class SLABreached(DrillbookError):
    """A measured phase of a drill exceeded its budget.

    Carries the numbers: which ``phase`` (e.g. ``time_to_recover``), what was ``observed_s``,
    the ``budget_s`` and where the budget came from (``source``: a runbook line or a profile).
    """

    def __init__(self, phase: str, observed_s: float, budget_s: float, source: str = "") -> None:
        self.phase = phase
        self.observed_s = observed_s
        self.budget_s = budget_s
        self.source = source
        over = observed_s - budget_s
        origin = f" (budget from {source})" if source else ""
        super().__init__(
            f"SLA breached: {phase} took {observed_s:.1f}s, budget {budget_s:.1f}s{origin}: "
            f"over by {over:.1f}s",
            hint="fix the remediation, or, if the budget itself is wrong, change it where it "
            "comes from: the runbook's text, or the drill profile (--drill-profile)",
        )


class RunbookParseError(ConfigError):
    """The runbook could not be read as a runbook; ``problems`` lists ``(line, message)``."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = sorted(problems)
        listing = "\n".join(f"  {source}:{line}: {msg}" for line, msg in self.problems)
        super().__init__(
            f"{source}: {len(self.problems)} problem(s) in the runbook:\n{listing}",
            hint="fix the markdown at those lines; `drillbook runbook show FILE` re-checks it",
        )

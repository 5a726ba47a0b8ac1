"""What every fault is: inject, prove it is in effect, revert (idempotently)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from drillbook.environments.docker import DockerLab
from drillbook.waiting import Check

__all__ = ["Fault"]


@runtime_checkable
class Fault(Protocol):
    """A failure a drill injects. ``revert`` must be safe to call twice and after a failed
    ``inject``: the runner calls it on every exit path (success, failure, Ctrl-C, timeout)."""

    @property
    def name(self) -> str: ...

    def inject(self, lab: DockerLab) -> None: ...

    def verify_active(self, lab: DockerLab) -> Check: ...

    def revert(self, lab: DockerLab) -> None: ...

"""The trigger of a planned procedure: nothing breaks, someone decides to start."""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.environments.docker import DockerLab
from drillbook.waiting import Check

__all__ = ["Scheduled"]


@dataclass(frozen=True)
class Scheduled:
    """A planned procedure begins (a maintenance window opens, a shutdown is ordered). It
    changes nothing in the lab, so there is nothing to revert; the drill's steps do the work
    and its teardown undoes them. Drills with it are ``planned``: no detection is awaited."""

    what: str

    @property
    def name(self) -> str:
        return f"scheduled: {self.what}"

    def inject(self, lab: DockerLab) -> None:
        return None

    def verify_active(self, lab: DockerLab) -> Check:
        return Check(True, self.name)

    def revert(self, lab: DockerLab) -> None:
        return None

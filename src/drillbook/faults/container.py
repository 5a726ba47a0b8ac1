"""Container faults: the Docker lab's analogs of a pod kill, a crashed process, a hung process."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from docker.models.containers import Container

from drillbook.environments.docker import DockerLab
from drillbook.errors import LabError
from drillbook.waiting import Check

__all__ = ["HangProcess", "KillContainer", "StopContainer"]


def _container(lab: DockerLab, service: str) -> Container:
    return lab.container(service)


@dataclass(frozen=True)
class KillContainer:
    """SIGKILL the service's container (the pod-kill analog). Revert: start it again."""

    service: str
    signal: str = "SIGKILL"

    @property
    def name(self) -> str:
        return f"kill {self.service} ({self.signal})"

    def inject(self, lab: DockerLab) -> None:
        _container(lab, self.service).kill(signal=self.signal)

    def verify_active(self, lab: DockerLab) -> Check:
        c = _container(lab, self.service)
        c.reload()
        return Check(c.status != "running", f"{self.service} container {c.status}")

    def revert(self, lab: DockerLab) -> None:
        with contextlib.suppress(LabError):
            c = _container(lab, self.service)
            c.reload()
            if c.status != "running":
                c.start()


@dataclass(frozen=True)
class StopContainer(KillContainer):
    """Stop the service gracefully (SIGTERM, then SIGKILL after ``timeout_s``)."""

    timeout_s: int = 5

    @property
    def name(self) -> str:
        return f"stop {self.service}"

    def inject(self, lab: DockerLab) -> None:
        _container(lab, self.service).stop(timeout=self.timeout_s)


@dataclass(frozen=True)
class HangProcess:
    """Freeze every process of the service (docker pause): alive, but answering nothing."""

    service: str

    @property
    def name(self) -> str:
        return f"hang {self.service}"

    def inject(self, lab: DockerLab) -> None:
        _container(lab, self.service).pause()

    def verify_active(self, lab: DockerLab) -> Check:
        c = _container(lab, self.service)
        c.reload()
        return Check(c.status == "paused", f"{self.service} container {c.status}")

    def revert(self, lab: DockerLab) -> None:
        with contextlib.suppress(LabError):
            c = _container(lab, self.service)
            c.reload()
            if c.status == "paused":
                c.unpause()

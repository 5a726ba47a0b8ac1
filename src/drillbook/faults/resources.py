"""Resource faults: a memory limit too low for the service (the crash-loop analog)."""

from __future__ import annotations

from dataclasses import dataclass, field

from drillbook.environments.docker import DockerLab
from drillbook.environments.services import service as service_spec
from drillbook.waiting import Check

__all__ = ["MemoryLimit"]


@dataclass(frozen=True)
class MemoryLimit:
    """Recreate the service with ``limit`` memory (and optional env, e.g. a ballast) so it is
    OOM-killed; revert recreates it with its spec's own limit (none: unlimited) and the env
    unset."""

    service: str
    limit: str = "48m"
    env: tuple[tuple[str, str], ...] = field(default=())

    @property
    def name(self) -> str:
        return f"memory limit {self.limit} on {self.service}"

    def inject(self, lab: DockerLab) -> None:
        lab.recreate(self.service, env=dict(self.env), mem_limit=self.limit, wait=False)

    def verify_active(self, lab: DockerLab) -> Check:
        c = lab.container(self.service)
        c.reload()
        state = c.attrs["State"]
        oom = bool(state.get("OOMKilled"))
        return Check(oom or c.status != "running", f"status {c.status}, OOMKilled={oom}")

    def revert(self, lab: DockerLab) -> None:
        own = service_spec(self.service, lab.settings.catalog).mem_limit or "0"
        lab.recreate(self.service, env=dict.fromkeys(k for k, _ in self.env), mem_limit=own)

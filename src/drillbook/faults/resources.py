"""Resource faults: a memory limit too low for the service (the crash-loop analog)."""

from __future__ import annotations

from dataclasses import dataclass, field

from drillbook.environments.docker import DockerLab
from drillbook.environments.services import service as service_spec
from drillbook.waiting import Check

__all__ = ["MemoryLimit", "MemoryPressure", "backend_memory_ratio"]


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


def backend_memory_ratio(lab: DockerLab) -> tuple[float, str]:
    """The backend's resident memory over its container limit, from its own ``/metrics`` (what
    HighMemoryUsage evaluates); 0 when it reports no limit."""
    import urllib.request

    url = lab.services()["backend"].endpoint("health").url + "/metrics"
    with urllib.request.urlopen(url, timeout=2) as resp:  # loopback only
        text = resp.read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        for name in ("process_resident_memory_bytes", "trading_bot_memory_limit_bytes"):
            if line.startswith(name + " ") or line.startswith(name + "{"):
                values[name] = float(line.rsplit(" ", 1)[1])
    rss = values.get("process_resident_memory_bytes", 0.0)
    limit = values.get("trading_bot_memory_limit_bytes", 0.0)
    ratio = rss / limit if limit > 0 else 0.0
    return ratio, f"resident {rss / 2**20:.0f} MiB of limit {limit / 2**20:.0f} MiB"


@dataclass(frozen=True)
class MemoryPressure:
    """The backend recreated with a ``limit`` and a ballast of ``ballast_mb`` held in memory: it
    runs close to its limit without being OOM-killed (HighMemoryUsage, not a crash loop). Revert
    recreates it with its spec's own limit and no ballast."""

    service: str = "backend"
    limit: str = "320m"
    ballast_mb: int = 245
    threshold: float = 0.85

    def __post_init__(self) -> None:
        if self.service != "backend":
            raise ValueError("MemoryPressure: only the backend reports its memory against a limit")
        if not 0 < self.ballast_mb <= 4096:
            raise ValueError(f"MemoryPressure ballast_mb={self.ballast_mb}: expected 1 to 4096")

    @property
    def name(self) -> str:
        return f"memory pressure on {self.service}: {self.ballast_mb} MB held under {self.limit}"

    def inject(self, lab: DockerLab) -> None:
        lab.recreate(
            self.service, env={"MEMORY_BALLAST_MB": str(self.ballast_mb)}, mem_limit=self.limit
        )

    def verify_active(self, lab: DockerLab) -> Check:
        try:
            ratio, detail = backend_memory_ratio(lab)
        except OSError as exc:
            return Check(False, f"/metrics: {exc}")
        return Check(ratio > self.threshold, f"{ratio:.0%}: {detail}")

    def revert(self, lab: DockerLab) -> None:
        own = service_spec(self.service, lab.settings.catalog).mem_limit or "0"
        lab.recreate(self.service, env={"MEMORY_BALLAST_MB": None}, mem_limit=own)

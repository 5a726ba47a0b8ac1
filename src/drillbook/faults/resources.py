"""Resource faults: a memory limit too low (the crash-loop analog), memory and CPU pressure."""

from __future__ import annotations

from dataclasses import dataclass, field

from drillbook.environments.docker import DockerLab
from drillbook.environments.services import service as service_spec
from drillbook.waiting import Check

__all__ = [
    "CpuPressure",
    "MemoryLimit",
    "MemoryPressure",
    "backend_cpu_ratio",
    "backend_memory_ratio",
]


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


def _backend_metrics(lab: DockerLab, names: tuple[str, ...]) -> dict[str, float]:
    import urllib.request

    url = lab.services()["backend"].endpoint("health").url + "/metrics"
    with urllib.request.urlopen(url, timeout=2) as resp:  # loopback only
        text = resp.read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        for name in names:
            if line.startswith(name + " ") or line.startswith(name + "{"):
                values[name] = float(line.rsplit(" ", 1)[1])
    return values


def backend_cpu_ratio(lab: DockerLab, window_s: float = 2.0) -> tuple[float, str]:
    """The backend's CPU use over ``window_s`` against its CPU limit (one core without one),
    from its own ``/metrics``: what HighCPUUsage evaluates.

    The window is timed by the backend's own clock (``process_time_seconds``, read in the same
    render as the CPU counter), not by when the replies arrive: a throttled backend answers up
    to a CFS period late, which on a one-second window moved the ratio by 10% and more."""
    import time

    names = ("process_cpu_seconds_total", "trading_bot_cpu_limit_cores", "process_time_seconds")
    first, t0 = _backend_metrics(lab, names), time.monotonic()
    time.sleep(window_s)
    second, t1 = _backend_metrics(lab, names), time.monotonic()
    if "process_time_seconds" in first and "process_time_seconds" in second:
        t0, t1 = first["process_time_seconds"], second["process_time_seconds"]
    used = (second["process_cpu_seconds_total"] - first["process_cpu_seconds_total"]) / max(
        t1 - t0, 1e-3
    )
    limit = second.get("trading_bot_cpu_limit_cores", 0.0)
    ratio = used / (limit if limit > 0 else 1.0)
    of = f"limit {limit:g} core(s)" if limit > 0 else "one core (no limit)"
    return ratio, f"{used:.2f} core(s) of {of} over {t1 - t0:.1f} s"


def backend_memory_ratio(lab: DockerLab) -> tuple[float, str]:
    """The backend's resident memory over its container limit, from its own ``/metrics`` (what
    HighMemoryUsage evaluates); 0 when it reports no limit."""
    values = _backend_metrics(
        lab, ("process_resident_memory_bytes", "trading_bot_memory_limit_bytes")
    )
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


@dataclass(frozen=True)
class CpuPressure:
    """The backend recreated under a CPU limit of ``limit`` cores with ``threads`` busy threads
    (``CPU_BURN_THREADS``, each ending by itself after ``max_s``): it runs at its limit
    (HighCPUUsage). Revert recreates it without the threads and without a CPU limit.

    The default limit is a quarter core: one busy thread must reach 80% of it (0.2 core) within
    the rule's 10 s window on a machine other labs keep busy too (at 0.5 core a loaded 2-core
    machine sometimes gave the thread less than 0.4 core, and the alert came late), and after
    the runbook's raise to 2 cores the one thread stays at most half of it."""

    service: str = "backend"
    limit: float = 0.25
    threads: int = 1
    max_s: float = 300.0
    threshold: float = 0.8

    def __post_init__(self) -> None:
        if self.service != "backend":
            raise ValueError("CpuPressure: only the backend reports its CPU against a limit")
        if not 0.05 <= self.limit <= 16:
            raise ValueError(f"CpuPressure limit={self.limit}: expected 0.05 to 16 cores")
        if not 1 <= self.threads <= 4:
            raise ValueError(f"CpuPressure threads={self.threads}: expected 1 to 4")
        if not 1 <= self.max_s <= 3600:
            raise ValueError(f"CpuPressure max_s={self.max_s}: expected 1 to 3600")

    @property
    def name(self) -> str:
        burn = f"{self.threads} busy thread(s)"
        return f"CPU pressure on {self.service}: {burn} under {self.limit:g} core"

    def inject(self, lab: DockerLab) -> None:
        lab.recreate(
            self.service,
            env={"CPU_BURN_THREADS": str(self.threads), "CPU_BURN_SECONDS": f"{self.max_s:g}"},
            cpus=self.limit,
        )

    def verify_active(self, lab: DockerLab) -> Check:
        try:
            ratio, detail = backend_cpu_ratio(lab, window_s=1.0)
        except (OSError, KeyError) as exc:
            return Check(False, f"/metrics: {exc}")
        return Check(ratio > self.threshold, f"{ratio:.0%}: {detail}")

    def revert(self, lab: DockerLab) -> None:
        lab.recreate(self.service, env={"CPU_BURN_THREADS": None, "CPU_BURN_SECONDS": None}, cpus=0)

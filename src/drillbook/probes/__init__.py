"""Probes: one look at whether a part of the lab does its job, as ``Check(ok, detail)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from drillbook.environments._health import look
from drillbook.environments.docker import DockerLab
from drillbook.environments.services import service as service_spec
from drillbook.errors import LabError
from drillbook.registry import Registry
from drillbook.waiting import Check

__all__ = ["PROBES", "HttpProbe", "Probe", "ServiceHealthy"]


@runtime_checkable
class Probe(Protocol):
    @property
    def name(self) -> str: ...

    def check(self, lab: DockerLab) -> Check: ...


@dataclass(frozen=True)
class ServiceHealthy:
    """The service answers its own health check (the one its spec declares)."""

    service: str
    timeout_s: float = 1.0

    @property
    def name(self) -> str:
        return f"{self.service} healthy"

    def check(self, lab: DockerLab) -> Check:
        spec = service_spec(self.service, lab.settings.catalog)
        if spec.health is None:
            return Check(False, f"{self.service} declares no health check", final=True)
        try:
            ep = lab.services()[self.service].endpoint(spec.health.port)
        except (KeyError, LabError) as exc:
            return Check(False, f"{self.service}: {exc}")
        return look(spec.health, ep.url, ep.host, ep.port, timeout_s=self.timeout_s)


@dataclass(frozen=True)
class HttpProbe:
    """GET a path on a service's port; ok when the status is ``expect``."""

    service: str
    port: str
    path: str
    expect: int = 200
    timeout_s: float = 1.0

    @property
    def name(self) -> str:
        return f"GET {self.service}:{self.port}{self.path} == {self.expect}"

    def check(self, lab: DockerLab) -> Check:
        import urllib.error
        import urllib.request

        try:
            url = lab.services()[self.service].endpoint(self.port).url + self.path
        except (KeyError, LabError) as exc:
            return Check(False, str(exc))
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:  # loopback only
                status = int(resp.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            return Check(False, f"GET {self.path}: {type(exc).__name__}")
        return Check(status == self.expect, f"GET {self.path} -> {status}")


#: every probe by the name plans and experiments use for it
PROBES: Registry[Probe] = Registry("probe")
PROBES.add("service_healthy", ServiceHealthy)
PROBES.add("http", HttpProbe)

"""Probes: one look at whether a part of the lab does its job, as ``Check(ok, detail)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import LabError
from drillbook.registry import Registry
from drillbook.waiting import Check

__all__ = [
    "PROBES",
    "ExchangeConnected",
    "ExposureBelow",
    "HttpProbe",
    "Probe",
    "ServiceHealthy",
    "exposure_within",
]


#: the lab a probe looks at (DockerLab, KubernetesLab)
L_contra = TypeVar("L_contra", contravariant=True)


@runtime_checkable
class Probe(Protocol[L_contra]):
    """One look at a lab of type ``L_contra`` (``Probe[DockerLab]``, ``Probe[KubernetesLab]``)."""

    @property
    def name(self) -> str: ...

    def check(self, lab: L_contra) -> Check: ...


@dataclass(frozen=True)
class ServiceHealthy:
    """The service answers its own health check (the one its spec declares)."""

    service: str
    timeout_s: float = 1.0

    @property
    def name(self) -> str:
        return f"{self.service} healthy"

    def check(self, lab: DockerLab) -> Check:
        return lab.look(self.service, timeout_s=self.timeout_s)


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


def _get_json(url: str, timeout_s: float) -> object:
    import json
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # loopback only
        return json.load(resp)


@dataclass(frozen=True)
class ExposureBelow:
    """The bot's exposure (open notional / equity, ``GET :3000/api/risk``) is below
    ``fraction`` of its limit: HighRiskExposure's condition is false."""

    fraction: float = 0.8
    timeout_s: float = 2.0

    @property
    def name(self) -> str:
        return f"exposure below {self.fraction:.0%} of the limit"

    def check(self, lab: DockerLab) -> Check:
        try:
            url = lab.services()["backend"].endpoint("api").url + "/api/risk"
            risk = _get_json(url, self.timeout_s)
            assert isinstance(risk, dict)
            return exposure_within(risk, self.fraction)
        except Exception as exc:  # no answer is not a pass
            return Check(False, f"GET /api/risk: {type(exc).__name__}: {exc}")


def exposure_within(risk: Any, fraction: float) -> Check:
    """The backend's ``/api/risk`` answer: exposure below ``fraction`` of its limit (on
    either lab; KeyError, TypeError or ValueError for an answer without the two ratios)."""
    ratio = float(risk["exposure_ratio"])
    limit = float(risk["exposure_limit_ratio"])
    return Check(
        ratio < fraction * limit, f"exposure {ratio:.3f} against {fraction:g} x limit {limit:g}"
    )


@dataclass(frozen=True)
class ExchangeConnected:
    """The backend's own view (``GET :8080/health``): its calls to ``exchange`` succeed. Any
    dependency the backend reports works too (``ExchangeConnected("redis")``)."""

    exchange: str
    timeout_s: float = 2.0

    @property
    def name(self) -> str:
        return f"backend connected to {self.exchange}"

    def check(self, lab: DockerLab) -> Check:
        try:
            _, health = DockerPlatform(lab).http_call(
                "backend", "health", "/health", timeout_s=self.timeout_s
            )  # a 503 still carries the body
            assert isinstance(health, dict)
            dep = health["dependencies"][self.exchange]
        except Exception as exc:
            return Check(False, f"GET /health: {type(exc).__name__}: {exc}")
        return Check(bool(dep.get("up")), f"{self.exchange}: {dep}")


#: every probe by the name plans and experiments use for it
PROBES: Registry[Probe[DockerLab]] = Registry("probe")
PROBES.add("service_healthy", ServiceHealthy)
PROBES.add("http", HttpProbe)
PROBES.add("exposure_below", ExposureBelow)
PROBES.add("exchange_connected", ExchangeConnected)

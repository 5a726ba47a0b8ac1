"""Chaos Toolkit probes on the drillbook Docker lab."""

from __future__ import annotations

from typing import Any

from drillbook.experiments._lab import activity, lab_from
from drillbook.probes import HttpProbe, ServiceHealthy
from drillbook.waiting import Wait

__all__ = [
    "alert_firing",
    "http_status",
    "service_healthy",
    "wait_for_alert",
    "wait_healthy",
]

Configuration = dict[str, Any] | None
Secrets = dict[str, Any] | None


@activity
def service_healthy(
    service: str, configuration: Configuration = None, secrets: Secrets = None
) -> bool:
    """Whether the service answers its own health check right now."""
    return ServiceHealthy(service).check(lab_from(configuration)).ok


@activity
def wait_healthy(
    service: str,
    timeout: float = 60.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Wait (polling at 10 Hz) until the service is healthy; return the seconds it took."""
    import time

    lab = lab_from(configuration)
    started = time.monotonic()
    Wait(timeout_s=float(timeout), poll_s=0.1).until(
        lambda: ServiceHealthy(service).check(lab), f"{service} to be healthy"
    )
    return round(time.monotonic() - started, 3)


@activity
def http_status(
    service: str, port: str, path: str, configuration: Configuration = None, secrets: Secrets = None
) -> int:
    check = HttpProbe(service, port, path).check(lab_from(configuration))
    detail = check.detail.rsplit("-> ", 1)
    return int(detail[1]) if len(detail) == 2 and detail[1].isdigit() else 0


@activity
def alert_firing(name: str, configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """Whether the lab's responder has alert ``name`` firing now (as Alertmanager last said)."""
    from drillbook.detection import Detection

    detection = Detection.for_lab(lab_from(configuration))
    return any(e.name == name for e in detection.firing())


@activity
def wait_for_alert(
    name: str,
    state: str = "firing",
    timeout: float | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Wait until alert ``name`` is ``state`` (firing | resolved) at the lab's responder; return
    the seconds waited. ``timeout`` defaults to the alert's detection bound; on timeout the
    activity fails naming the alert, the bound and what Prometheus saw."""
    import time

    from drillbook.detection import Detection

    detection = Detection.for_lab(lab_from(configuration))
    started = time.monotonic()
    detection.wait_for_alert(name, state, None if timeout is None else float(timeout))
    return round(time.monotonic() - started, 3)

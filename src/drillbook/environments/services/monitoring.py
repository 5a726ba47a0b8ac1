"""Detection: Prometheus, Alertmanager, exporters and the alert responder."""

from __future__ import annotations

from drillbook.environments._spec import ServiceSpec

__all__ = ["MONITORING_SERVICES"]

MONITORING_SERVICES: tuple[ServiceSpec, ...] = ()

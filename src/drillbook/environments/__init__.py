"""Where drills run: the Environment protocol, service specs, and the lab backends."""

from drillbook.environments._spec import HealthCheck, MountSpec, PortSpec, ServiceSpec, VolumeSpec
from drillbook.environments.base import Endpoint, Environment, ServiceHandle, ServiceStatus
from drillbook.environments.services import SERVICES, resolve_services, service

__all__ = [
    "SERVICES",
    "Endpoint",
    "Environment",
    "HealthCheck",
    "MountSpec",
    "PortSpec",
    "ServiceHandle",
    "ServiceSpec",
    "ServiceStatus",
    "VolumeSpec",
    "resolve_services",
    "service",
]

"""Where drills run: the Environment protocol, service specs, and the lab backends."""

from drillbook.environments._lock import LabInUse, LabLock, lock_dir
from drillbook.environments._spec import HealthCheck, MountSpec, PortSpec, ServiceSpec, VolumeSpec
from drillbook.environments.base import Endpoint, Environment, ServiceHandle, ServiceStatus
from drillbook.environments.services import SERVICES, resolve_services, service
from drillbook.registry import Registry


def _docker(**settings: object) -> Environment:
    from drillbook.environments.docker import DockerLab, LabSettings

    return DockerLab(LabSettings(**settings))  # type: ignore[arg-type]  # checked by LabSettings


#: lab backends by the name ``--env`` and ``--drill-env`` take (kubernetes joins in its issue)
ENVIRONMENTS: Registry[Environment] = Registry("environment")
ENVIRONMENTS.add("docker", _docker)

__all__ = [
    "ENVIRONMENTS",
    "SERVICES",
    "Endpoint",
    "Environment",
    "HealthCheck",
    "LabInUse",
    "LabLock",
    "MountSpec",
    "PortSpec",
    "ServiceHandle",
    "ServiceSpec",
    "ServiceStatus",
    "VolumeSpec",
    "lock_dir",
    "resolve_services",
    "service",
]

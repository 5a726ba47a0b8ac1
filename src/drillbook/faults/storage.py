"""Storage faults: a volume that cannot be provided, the Docker analog of a PVC stuck Pending."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import docker.errors

from drillbook.environments.docker import DockerLab
from drillbook.errors import LabError
from drillbook.waiting import Check

__all__ = ["StorageUnavailable"]


@dataclass(frozen=True)
class StorageUnavailable:
    """The service is rescheduled and its volume cannot be provided: the new container is
    created and never starts (a pod Pending on its PVC). The data volume itself is untouched.
    Revert binds the real volume again (a rollout) and removes the unprovidable one."""

    service: str = "postgres"
    volume: str = "postgres-data"

    @property
    def name(self) -> str:
        return f"{self.service}'s volume {self.volume} cannot be provided (PVC Pending)"

    def _unprovided(self, lab: DockerLab) -> str:
        return lab.settings.volume_name(f"{self.volume}-unprovided")

    def inject(self, lab: DockerLab) -> None:
        lab.unbind_volume(self.service, self.volume)

    def verify_active(self, lab: DockerLab) -> Check:
        container = lab.container(self.service)
        container.reload()
        mounts = [m.get("Name") for m in container.attrs.get("Mounts") or []]
        error = container.attrs["State"].get("Error", "")
        pending = container.status != "running" and (
            self._unprovided(lab) in mounts or "mount" in error
        )
        return Check(pending, f"{self.service} {container.status}: {error or 'no error'}")

    def pending(self, lab: DockerLab) -> bool:
        """Whether the service still waits for its storage."""
        try:
            container = lab.container(self.service)
        except LabError:
            return True
        mounts = [m.get("Name") for m in container.attrs.get("Mounts") or []]
        configured = [b.split(":", 1)[0] for b in container.attrs["HostConfig"].get("Binds") or []]
        return container.status != "running" or self._unprovided(lab) in mounts + configured

    def revert(self, lab: DockerLab) -> None:
        if self.pending(lab):
            lab.recreate(self.service)
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            lab.client.volumes.get(self._unprovided(lab)).remove(force=True)

"""What every fault is: inject, prove it is in effect, revert (idempotently)."""

from __future__ import annotations

from typing import Protocol, TypeVar, runtime_checkable

from drillbook.waiting import Check

__all__ = ["Fault"]

#: the lab a fault acts on (DockerLab, KubernetesLab): each backend's faults take their own
L_contra = TypeVar("L_contra", contravariant=True)


@runtime_checkable
class Fault(Protocol[L_contra]):
    """A failure a drill injects into a lab of type ``L_contra`` (``Fault[DockerLab]``,
    ``Fault[KubernetesLab]``; a fault that works on both takes the labs' common protocol).

    ``revert`` must be safe to call twice and after a failed ``inject``: the runner calls it
    on every exit path (success, failure, Ctrl-C, timeout)."""

    @property
    def name(self) -> str: ...

    def inject(self, lab: L_contra) -> None: ...

    def verify_active(self, lab: L_contra) -> Check: ...

    def revert(self, lab: L_contra) -> None: ...

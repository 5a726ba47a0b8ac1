"""The system under test: backend, frontend, fake exchanges, backup job (fixtures/stack/)."""

from __future__ import annotations

from drillbook.environments._spec import ServiceSpec

__all__ = ["STACK_SERVICES"]

STACK_SERVICES: tuple[ServiceSpec, ...] = ()

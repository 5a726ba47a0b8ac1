"""The one place drillbook connects to a Docker engine, with errors that say what to do."""

from __future__ import annotations

import os

import docker
import docker.errors

from drillbook.errors import EngineError

__all__ = ["docker_client", "engine_hint"]


def engine_hint() -> str:
    if os.geteuid() != 0:
        return (
            "start a Docker engine you can reach (Docker Desktop, rootless dockerd, or ask an "
            "administrator to add you to the 'docker' group), or run `make bootstrap` as root, "
            "which installs Debian's docker.io and starts dockerd"
        )
    return "run `make bootstrap` (installs Debian's docker.io and starts dockerd), or start dockerd"


def docker_client(timeout_s: float = 120.0) -> docker.DockerClient:
    """A client for the engine at ``DOCKER_HOST`` (or the default socket) that answered a ping.

    Raises :class:`EngineError` when no engine answers.
    """
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:
        raise EngineError(
            f"no Docker engine answers at {where} ({type(exc).__name__}: {exc})",
            hint=engine_hint(),
        ) from exc
    return client

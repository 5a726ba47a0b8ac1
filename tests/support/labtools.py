"""Helpers shared by the Docker-lab tests (fixtures live in the conftest next to them)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker

from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers, list_resources

DRILLBOOK = [sys.executable, "-m", "drillbook"]
SRC = str(Path(__file__).resolve().parents[2] / "src")


def leftovers(client: docker.DockerClient, lab: str) -> list[str]:
    """``kind:name`` of everything in the engine labelled as belonging to ``lab``."""
    return sorted(
        f"{r.kind}:{r.name}" for r in list_resources(client) if r.labels.get("drillbook.lab") == lab
    )


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, **extra}


@contextmanager
def running_lab(prefix: str, services: tuple[str, ...]) -> Iterator[DockerLab]:
    """A fresh lab with ``services`` (and their dependencies), always removed afterwards."""
    lab = DockerLab(LabSettings(name=f"{prefix}-{uuid.uuid4().hex[:6]}", services=services))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()
        clean_leftovers(lab.client, lab.name)

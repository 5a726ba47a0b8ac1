from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers


@pytest.fixture(scope="module")
def lab() -> Iterator[DockerLab]:
    """Data services, the fake exchange and the backend."""
    lab = DockerLab(LabSettings(name=f"drills-{uuid.uuid4().hex[:6]}", services=("backend",)))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()
        clean_leftovers(lab.client, lab.name)

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers


@pytest.fixture(scope="module")
def stack_lab() -> Iterator[DockerLab]:
    """The data services, the fake exchange, the backend and the backup job, for one module."""
    settings = LabSettings(name=f"stack-{uuid.uuid4().hex[:6]}", services=("backend", "backup"))
    lab = DockerLab(settings)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()
        clean_leftovers(lab.client, lab.name)

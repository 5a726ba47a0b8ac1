from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from drillbook.environments import SERVICES
from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers


@pytest.fixture(scope="module")
def lab() -> Iterator[DockerLab]:
    """Data services plus the backend (simulated trading: no exchange needed for these faults)."""
    catalog = tuple(
        s.with_env(SIMULATE_TRADING="true") if s.name == "backend" else s for s in SERVICES
    )
    lab = DockerLab(
        LabSettings(name=f"chaos-{uuid.uuid4().hex[:6]}", services=("backend",), catalog=catalog)
    )
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()
        clean_leftovers(lab.client, lab.name)

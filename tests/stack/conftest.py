from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from drillbook.environments import SERVICES
from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers


@pytest.fixture(scope="module")
def stack_lab() -> Iterator[DockerLab]:
    """The data services, the backend and the backup job, for one test module.

    The backend runs with SIMULATE_TRADING=true here: these tests need no exchange.
    """
    catalog = tuple(
        s.with_env(SIMULATE_TRADING="true") if s.name == "backend" else s for s in SERVICES
    )
    settings = LabSettings(
        name=f"stack-{uuid.uuid4().hex[:6]}", services=("backend", "backup"), catalog=catalog
    )
    lab = DockerLab(settings)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()
        clean_leftovers(lab.client, lab.name)

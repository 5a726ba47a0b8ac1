from __future__ import annotations

import pytest

from drillbook.environments.docker import DockerLab
from support.labtools import STACK, LabPool


@pytest.fixture(scope="module")
def stack_lab(lab_pool: LabPool) -> DockerLab:
    """The session's shared stack lab (data services, the fake exchange, the backend and the
    backup job), handed over after a verified reset."""
    return lab_pool.take(STACK)

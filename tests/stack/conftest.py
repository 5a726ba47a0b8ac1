from __future__ import annotations

from collections.abc import Iterator

import pytest

from drillbook.environments.docker import DockerLab
from support.labtools import running_lab


@pytest.fixture(scope="module")
def stack_lab() -> Iterator[DockerLab]:
    """The data services, the fake exchange, the backend and the backup job."""
    with running_lab("stack", ("backend", "backup")) as lab:
        yield lab

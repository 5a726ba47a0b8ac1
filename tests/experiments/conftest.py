from __future__ import annotations

from collections.abc import Iterator

import pytest

from drillbook.environments.docker import DockerLab
from support.labtools import running_lab


@pytest.fixture(scope="module")
def lab() -> Iterator[DockerLab]:
    """Data services, the fake exchange, the backend and the alert pipeline; private to the
    module, which alone needs this set (the Chaos Toolkit runs wait for its alerts)."""
    with running_lab(
        "chaos", ("backend", "frontend", "prometheus", "alertmanager", "responder")
    ) as lab:
        yield lab

"""drillbook's pytest plugin (entry point ``pytest11``): cheap to import, heavy work deferred.

It provides the ``docker_lab`` fixture: a session-scoped Docker lab, started on first use and
always removed at the end of the session (also when the session is interrupted).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from drillbook.environments.docker import DockerLab

__all__ = ["docker_lab"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drillbook")
    group.addoption(
        "--drill-lab-name",
        default=None,
        help="name of the Docker lab the session starts (default: pytest-<pid>)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drill(alert): a drill that exercises the runbook's ALERT")


@pytest.fixture(scope="session")
def docker_lab(request: pytest.FixtureRequest) -> Iterator[DockerLab]:
    """The lab's data services (postgres, redis, rabbitmq) for the whole session."""
    from drillbook.environments.docker import DockerLab, LabSettings

    name = request.config.getoption("--drill-lab-name") or f"pytest-{os.getpid()}"
    lab = DockerLab(LabSettings(name=name))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()

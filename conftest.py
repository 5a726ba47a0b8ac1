"""Project-wide test configuration: Hypothesis profiles and shared markers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from drillbook.environments.docker import DockerLab
    from support.labtools import LabPool

# intensity profiles, chosen with --hypothesis-profile (the Makefile passes ci by default)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("nightly", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# the suite's budget check: wall time, tier and slowest tests printed and recorded
pytest_plugins = ["support.suite_budget"]


@pytest.fixture(scope="session")
def lab_pool() -> Iterator[LabPool]:
    """The session's shared Docker labs (one per service set, handed out after a verified
    reset; tests/support/labtools.py). A module that needs a private lab says why."""
    from support.labtools import LabPool

    pool = LabPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def default_lab(lab_pool: LabPool) -> DockerLab:
    """The session's shared default lab (every service a fresh `drillbook run` starts), handed
    over after a verified reset, for the commands' `--lab NAME`: they drill it and leave it up."""
    from support.labtools import DEFAULT

    return lab_pool.take(DEFAULT)

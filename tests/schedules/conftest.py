from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from drillbook.environments import SERVICES, MountSpec
from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers
from drillbook.schedules import PROFILES, ScheduleProfile, profile_for, wait_trading

#: the planted bug's backend: tests/schedules/planted/double_record.py in front of the real one
PLANTED = tuple(
    dataclasses.replace(
        s,
        command=("python3", "/planted/double_record.py"),
        mounts=(*s.mounts, MountSpec("tests/schedules/planted", "/planted")),
    )
    if s.name == "backend"
    else s
    for s in SERVICES
)


@pytest.fixture(scope="session")
def schedule_profile(pytestconfig: pytest.Config) -> ScheduleProfile:
    """The Hypothesis profile when it names a drill profile (``make test`` passes
    ``--hypothesis-profile=$(PROFILE)``), else ``--drill-profile``; ``dev`` runs as ci."""
    name = pytestconfig.getoption("hypothesis_profile", None)
    if name not in PROFILES:
        name = pytestconfig.getoption("--drill-profile")
    return profile_for(name if name in PROFILES else "ci")


def _lab(prefix: str, catalog: tuple[object, ...] = SERVICES) -> Iterator[DockerLab]:
    lab = DockerLab(
        LabSettings(
            name=f"{prefix}-{uuid.uuid4().hex[:6]}",
            services=("backend",),
            catalog=catalog,  # type: ignore[arg-type]
        )
    )
    lab.start()
    try:
        wait_trading(lab)
        yield lab
    finally:
        lab.stop()
        clean_leftovers(lab.client, lab.name)


@pytest.fixture(scope="module")
def real_lab() -> Iterator[DockerLab]:
    """Data services, the exchange and the real backend, trading. Private: the invariants
    judge the whole ledger against the exchange's fills since the lab started."""
    yield from _lab("sched")


@pytest.fixture(scope="module")
def planted_lab() -> Iterator[DockerLab]:
    """The same with the planted bug's backend."""
    yield from _lab("planted", PLANTED)

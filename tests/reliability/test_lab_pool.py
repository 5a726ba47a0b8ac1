"""The shared labs of the test session (``support.labtools.LabPool``): a lab is handed out again
only after a verified reset; one left unhealthy or changed is replaced, never handed out dirty,
and nothing of either is left once the pool closes."""

from __future__ import annotations

import pytest

from drillbook.engine import docker_client
from support.labtools import LabPool, leftovers

pytestmark = pytest.mark.docker

REDIS = ("redis",)


def test_a_clean_lab_is_reused_and_a_changed_one_replaced() -> None:
    pool = LabPool()
    names: list[str] = []
    try:
        lab = pool.take(REDIS)
        names.append(lab.name)
        assert pool.take(REDIS) is lab  # as it started: reused

        lab.recreate("redis", env={"REDIS_EXTRA_FLAG": "1"})  # healthy, but not as it started
        changed = pool.take(REDIS)
        names.append(changed.name)
        assert changed is not lab
        assert leftovers(lab.client, lab.name) == []  # the changed lab is gone already
        assert "REDIS_EXTRA_FLAG=1" not in (changed.container("redis").attrs["Config"]["Env"] or [])

        changed.container("redis").stop(timeout=1)  # unhealthy: replaced after the settle time
        fresh = pool.take(REDIS, settle_s=2)
        names.append(fresh.name)
        assert fresh is not changed
        assert [how for _, how in pool.log] == [
            "started",
            "reused",
            "replaced",
            "started",
            "replaced",
            "started",
        ]
    finally:
        pool.close()
    client = docker_client()
    assert [left for name in names for left in leftovers(client, name)] == []


def test_verify_names_what_is_not_reset() -> None:
    pool = LabPool()
    try:
        lab = pool.take(REDIS)
        from drillbook.drills import lab_state

        baseline = lab_state(lab)
        lab.recreate("redis", env={"REDIS_EXTRA_FLAG": "1"})
        problems = pool.verify(lab, baseline, settle_s=5)
        assert problems == ["service redis env REDIS_EXTRA_FLAG: absent -> '1'"]
    finally:
        pool.close()

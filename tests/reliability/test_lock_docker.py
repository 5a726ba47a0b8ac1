"""The Chaos Toolkit drill activities hold the lab's lock from drill_inject to drill_revert: on
a lab another process runs drills on, the injection is refused before the fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from chaoslib.exceptions import ActivityFailed

from drillbook.drills.chaos import drill_inject
from drillbook.environments import LabLock
from support.labtools import running_lab
from support.locks import holder

pytestmark = pytest.mark.docker


def test_drill_inject_on_a_lab_in_use_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLBOOK_LOCK_DIR", str(tmp_path))
    # a private lab (redis only, the cheapest): another process holds its lock in this test
    with running_lab("lockchaos", ("redis",)) as lab:
        config = {"drillbook_lab": lab.name}
        with holder(lab.name, tmp_path) as proc, pytest.raises(ActivityFailed) as info:
            drill_inject("backend-killed", configuration=config)
        assert f"lab '{lab.name}' is in use: pid {proc.pid}" in str(info.value)
        container = lab.container("redis")
        container.reload()
        assert container.status == "running"  # refused before anything was touched
        assert LabLock(lab.name).holder() is None

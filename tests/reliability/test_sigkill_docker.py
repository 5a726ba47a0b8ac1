"""drillbook's own reliability: ``drillbook run`` killed with SIGKILL at random points of a
drill (lab start, fault injected, runbook steps), then ``drillbook lab clean``: nothing left
behind, no lock held, and the same lab name comes up healthy again.

The kill points are random with a logged seed (``DRILLBOOK_SIGKILL_SEED=N`` repeats a run);
the loop is bounded: 2 iterations under the ci profile, 5 under nightly, 90 s each at most.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import docker
import pytest

from drillbook.environments import LabLock
from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers
from support.labtools import DRILLBOOK, cli_env, leftovers

pytestmark = pytest.mark.docker

# where in a run to kill: after the line that starts with this (stderr), plus a random delay
POINTS = ("  starting postgres", "  starting backend", "  backend-killed (", "  backend healthy")


def _iterations(config: pytest.Config) -> int:
    profile = config.getoption("hypothesis_profile", None) or config.getoption("--drill-profile")
    return {"nightly": 5, "gameday": 5}.get(profile, 2)


def _run_and_kill(name: str, point: str, delay_s: float, report: Path) -> list[str]:
    proc = subprocess.Popen(
        [*DRILLBOOK, "run", "backend-killed", "--name", name, "--report", str(report)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    seen: list[str] = []
    reached = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line.rstrip())
            if line.startswith(point):
                reached.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        reached.wait(timeout=90)  # bounded: a run that never gets there is killed all the same
        time.sleep(delay_s)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        reader.join(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
    return seen


def test_sigkill_at_random_points_then_lab_clean(
    pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    seed = int(os.environ.get("DRILLBOOK_SIGKILL_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    print(f"DRILLBOOK_SIGKILL_SEED={seed}")
    client = docker.from_env()
    name = f"sigkill-{uuid.uuid4().hex[:6]}"
    try:
        for i in range(_iterations(pytestconfig)):
            point, delay = rng.choice(POINTS), round(rng.uniform(0, 2.5), 2)
            seen = _run_and_kill(name, point, delay, tmp_path)
            print(f"iteration {i}: killed {delay}s after {point.strip()!r}; last: {seen[-6:]}")
            assert LabLock(name).holder() is None, "a killed run left its lock held"
            cleaned = subprocess.run(
                [*DRILLBOOK, "lab", "clean", "--name", name],
                capture_output=True,
                text=True,
                env=cli_env(),
                timeout=120,
                check=False,
            )
            assert cleaned.returncode == 0, cleaned.stderr
            assert "Traceback" not in cleaned.stderr
            assert leftovers(client, name) == [], f"seed {seed}, iteration {i}"
        # steady state: the same name comes up healthy, nothing in its way
        with DockerLab(LabSettings(name=name, services=("backend",))) as lab:
            assert all(row.healthy for row in lab.status()), lab.status()
            assert LabLock(name).holder() is None
        assert leftovers(client, name) == []
    finally:
        clean_leftovers(client, name)
        client.close()

"""``drillbook replay FILE`` on a fresh lab: a schedule with the halt (emergency close, then
ALLOW_NEW_POSITIONS=false) and a Redis kill overlapping it; every invariant printed."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import docker
import pytest

from support.labtools import DRILLBOOK, cli_env, leftovers

pytestmark = pytest.mark.docker


def test_replay_prints_every_invariant_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "halt.json"
    path.write_text(
        json.dumps(
            {
                "budget_s": 6,
                "events": [
                    {"kind": "halt", "target": "backend", "start_s": 0, "duration_s": 4},
                    {"kind": "kill", "target": "redis", "start_s": 1, "duration_s": 1.5},
                ],
            }
        )
    )
    name = f"replay-{uuid.uuid4().hex[:6]}"
    proc = subprocess.run(
        [*DRILLBOOK, "replay", str(path), "--name", name],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in (
        "ok   every fault reverted: in effect: none; exchange faults: none",
        "ok   lab back in steady state",
        "ok   no trade lost or duplicated",
        "ok   positions reconcile with exchange balances",
        "ok   no position opened while ALLOW_NEW_POSITIONS=false: 0 position(s) opened",
        "ok   exposure under the limit after emergency close: emergency close -> 200",
        "replay: 6/6 invariant(s) held",
    ):
        assert line in proc.stdout, proc.stdout
    assert "inject halt backend" in proc.stderr
    client = docker.from_env()
    try:
        assert leftovers(client, name) == []
    finally:
        client.close()

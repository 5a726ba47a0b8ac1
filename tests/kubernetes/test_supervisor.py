"""The control plane's supervisor on its own, with ``sleep`` for components (no Kubernetes):
it reaps a component that dies, and stopping it leaves nothing alive and no zombie, also what
a component forked, also after the process that started it has exited."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from drillbook.environments.kubernetes._supervisor import NAME, Supervisor, running, terminate


def _start(supervisor: Supervisor, tmp_path: Path, name: str, script: str) -> int:
    """``script`` in bash; ``{root}`` in it is ``tmp_path``, which each process puts in its
    command line (``exec -a``) so that /proc tells this test's processes from others."""
    argv = ["bash", "-c", script.format(root=tmp_path)]
    pid, status = supervisor.start(name, "/bin/bash", argv, tmp_path / "c.log")
    assert status is None, (tmp_path / "c.log").read_text()
    return pid


def test_a_component_that_dies_is_reaped_at_once(tmp_path: Path, processes: Any) -> None:
    supervisor = Supervisor(tmp_path, tmp_path / "supervisor.log", grace_s=2)
    try:
        pid = _start(supervisor, tmp_path, "crashes", "exec -a {root}/crashes sleep 60")
        recorded = processes.record([pid])
        os.kill(pid, signal.SIGKILL)
        # (the supervisor, which names tmp_path too, runs on)
        assert processes.settled(tmp_path / "crashes", recorded, timeout_s=5) == []
        assert "exited: status 9" in (tmp_path / "supervisor.log").read_text()
    finally:
        supervisor.close()
        terminate(supervisor.pid, 10)


def test_stopping_it_stops_and_reaps_everything_it_started(tmp_path: Path, processes: Any) -> None:
    supervisor = Supervisor(tmp_path, tmp_path / "supervisor.log", grace_s=1)
    try:
        pids = [
            _start(supervisor, tmp_path, "plain", "exec -a {root}/plain sleep 60"),
            # ignores SIGTERM, as a hung process does: SIGKILL after the grace
            _start(
                supervisor, tmp_path, "stubborn", "trap '' TERM; exec -a {root}/stubborn sleep 60"
            ),
            # leaves a child of its own: reparented to the supervisor when it goes, killed, reaped
            _start(
                supervisor,
                tmp_path,
                "forks",
                "(exec -a {root}/leaf sleep 60) & exec -a {root}/forks sleep 61",
            ),
        ]
        supervisor.close()
        assert Path(f"/proc/{supervisor.pid}/comm").read_text().strip() == NAME
        time.sleep(0.3)  # the forked child has started
        recorded = processes.record([supervisor.pid, *pids])
        assert len(processes.of(tmp_path, recorded)) >= 5
        started = time.monotonic()
        assert terminate(supervisor.pid, 10)
        assert time.monotonic() - started < 5  # the grace, not the timeout
    finally:
        supervisor.close()
        terminate(supervisor.pid, 10)  # when an assertion above failed
    assert processes.of(tmp_path, recorded) == []  # its own child: reaped here at once
    log = (tmp_path / "supervisor.log").read_text()
    assert "stubborn" in log
    assert "SIGKILL" in log
    assert not running(supervisor.pid)


#: run as a separate process, as `drillbook k8s up` is: starts a supervisor and two sleeps,
#: prints their pids and exits, leaving the supervisor to whatever adopts orphans
_UP = """
import json, sys
from pathlib import Path
from drillbook.environments.kubernetes._supervisor import Supervisor
root = Path(sys.argv[1])
supervisor = Supervisor(root, root / "supervisor.log", grace_s=2)
argv = [["bash", "-c", f"exec -a {root}/{n} sleep 60"] for n in ("one", "two")]
pids = [supervisor.start("sleep", "/bin/bash", a, root / "c.log")[0] for a in argv]
supervisor.close()
print(json.dumps([supervisor.pid, *pids]))
"""


def test_stopped_from_another_process_after_its_starter_exited(
    tmp_path: Path, processes: Any
) -> None:
    """The ``k8s up`` then ``k8s down`` case: its parent is gone (PID 1 adopted it), this
    process is not its parent and cannot reap it; the supervisor reaps its components, and
    PID 1, which reaps on this machine, reaps the supervisor."""
    up = subprocess.run(
        [sys.executable, "-c", _UP, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    pids = json.loads(up.stdout)
    try:
        recorded = processes.record(pids)
        assert len(recorded) == 3
        assert recorded[0].ppid != os.getpid()
    finally:
        assert terminate(pids[0], 10)
    assert processes.settled(tmp_path, recorded, timeout_s=10) == []  # PID 1 polls

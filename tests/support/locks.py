"""A process that holds a lab's lock, for the lock tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from support.labtools import cli_env

HOLD = (
    "import sys, time; from drillbook.environments import LabLock; "
    "LabLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)"
)


@contextlib.contextmanager
def holder(name: str, lock_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding ``name``'s lock (killed at the end, bounded: 60 s at most)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, name],
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(DRILLBOOK_LOCK_DIR=str(lock_dir)),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

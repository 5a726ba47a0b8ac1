"""The lab lock: a second drill run on a lab in use is refused, naming the holder; a holder
killed with SIGKILL leaves no stale lock (the kernel drops an flock with its process)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
from pathlib import Path

import pytest

from drillbook.cli import main
from drillbook.environments import LabInUse, LabLock
from support.locks import holder


@pytest.fixture
def lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRILLBOOK_LOCK_DIR", str(tmp_path))
    return tmp_path


def test_a_second_holder_is_refused_with_who_and_since(lock_dir: Path) -> None:
    with holder("lab-a", lock_dir) as proc:
        with pytest.raises(LabInUse) as info:
            LabLock("lab-a").acquire()
        message = str(info.value)
        assert f"lab 'lab-a' is in use: pid {proc.pid} (python" in message
        assert " since 20" in message
        assert "Hint:" in message
        assert str(lock_dir / "lab-a.lock") in message
        assert LabLock("lab-a").holder() is not None
        LabLock("lab-b").acquire()  # another lab is another lock
        LabLock("lab-b").release()


def test_sigkill_of_the_holder_leaves_no_stale_lock(lock_dir: Path) -> None:
    with holder("lab-k", lock_dir) as proc:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert LabLock("lab-k").holder() is None
        with LabLock("lab-k").held():
            assert LabLock("lab-k").holder() is not None  # this process now


def test_the_lock_is_reentrant_within_a_process(lock_dir: Path) -> None:
    lock = LabLock("lab-r")
    with lock.held(), lock.held():
        pass
    with holder("lab-r", lock_dir):  # released: another process can take it
        pass


def test_drillbook_run_on_a_lab_in_use_is_refused_before_anything_starts(
    lock_dir: Path, tmp_path: Path
) -> None:
    err = io.StringIO()
    with holder("busy-lab", lock_dir) as proc, contextlib.redirect_stderr(err):
        code = main(["run", "backend-killed", "--name", "busy-lab", "--report", str(tmp_path)])
    assert code == 1
    assert f"drillbook: error: lab 'busy-lab' is in use: pid {proc.pid}" in err.getvalue()
    assert not list(tmp_path.glob("*/journal.json"))  # nothing was written, nothing started


def test_lab_clean_of_a_lab_in_use_is_refused(lock_dir: Path) -> None:
    err = io.StringIO()
    with holder("held-lab", lock_dir) as proc, contextlib.redirect_stderr(err):
        code = main(["lab", "clean", "--name", "held-lab"])
    assert code == 1
    assert f"lab 'held-lab' is in use: pid {proc.pid}" in err.getvalue()

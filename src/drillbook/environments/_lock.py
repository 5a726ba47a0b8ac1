"""One drill run per lab at a time: an ``flock``'d file per lab name.

The kernel releases an ``flock`` when its holder dies, so a runner killed with SIGKILL never
leaves a stale lock behind; the file's text (pid, since, command) only says who holds it.
Within one process the lock is re-entrant (a ``drillbook run`` holds it for the run and its
``DrillRunner`` for each drill).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from drillbook.errors import LabError

__all__ = ["LabInUse", "LabLock", "lock_dir"]

_HELD: dict[str, tuple[int, int]] = {}  # lab name -> (fd, depth) held by this process
_GUARD = threading.Lock()


def lock_dir() -> Path:
    """Where the lock files live: ``DRILLBOOK_LOCK_DIR``, else ``$XDG_RUNTIME_DIR/drillbook``,
    else ``/tmp/drillbook-locks`` (one per machine, as the Docker engine is)."""
    if env := os.environ.get("DRILLBOOK_LOCK_DIR"):
        return Path(env)
    if runtime := os.environ.get("XDG_RUNTIME_DIR"):
        return Path(runtime) / "drillbook"
    return Path("/tmp/drillbook-locks")


class LabInUse(LabError):
    """Another process runs drills on this lab; carries who holds it."""

    def __init__(self, lab: str, holder: str, path: Path) -> None:
        self.lab = lab
        self.holder = holder
        self.path = path
        super().__init__(
            f"lab {lab!r} is in use: {holder}",
            hint="wait for that run to finish, stop it (its faults are reverted on Ctrl-C or "
            "SIGTERM), or use another lab with --name; a killed holder releases the lock by "
            f"itself (lock file {path})",
        )


@dataclass(frozen=True)
class LabLock:
    """The lock of lab ``name``: ``with LabLock("x").held(): ...`` or ``acquire``/``release``."""

    name: str

    @property
    def path(self) -> Path:
        return lock_dir() / f"{self.name}.lock"

    def holder(self) -> str | None:
        """Who holds the lock now (``pid N (command) since T``), or None when it is free."""
        with _GUARD:
            if self.name in _HELD:
                return _describe(self.path.read_text(errors="replace"))
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _describe(self.path.read_text(errors="replace"))
        finally:
            os.close(fd)  # closing drops the shared lock taken to look
        return None

    def acquire(self) -> None:
        """Take the lock; raise :class:`LabInUse` naming the holder when another process has it."""
        with _GUARD:
            if self.name in _HELD:
                fd, depth = _HELD[self.name]
                _HELD[self.name] = (fd, depth + 1)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LabInUse(
                    self.name, _describe(self.path.read_text(errors="replace")), self.path
                ) from None
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            argv = getattr(sys, "orig_argv", sys.argv)  # the interpreter too: `python -m ...`
            command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))
            os.ftruncate(fd, 0)
            command = command.replace("\n", " ")[:200]
            os.pwrite(fd, f"{os.getpid()}\n{since}\n{command}\n".encode(), 0)
            _HELD[self.name] = (fd, 1)

    def release(self) -> None:
        with _GUARD:
            if self.name not in _HELD:
                return
            fd, depth = _HELD[self.name]
            if depth > 1:
                _HELD[self.name] = (fd, depth - 1)
                return
            del _HELD[self.name]
            os.close(fd)  # the kernel drops the flock with its last descriptor

    @contextlib.contextmanager
    def held(self) -> Iterator[LabLock]:
        self.acquire()
        try:
            yield self
        finally:
            self.release()


def _describe(text: str) -> str:
    pid, since, command = ([*text.splitlines(), "", "", ""])[:3]
    if not pid:
        return "another process (it has not written its name yet)"
    return f"pid {pid} ({command or 'unknown command'}) since {since}"

"""A program on a real pseudo-terminal: read what it shows, type at it, press Ctrl-C."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence

# the child takes the terminal as its controlling one (after its own setsid), so Ctrl-C typed
# at the terminal reaches it as SIGINT from the line discipline, as at a person's keyboard
_ATTACH = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)
_ANSI = re.compile(r"\x1b(\[[0-9;]*[A-Za-z]|[78])|\r")


class Terminal:
    """``argv`` running with a pty as stdin, stdout and stderr; ``screen`` is all it wrote
    (terminal control sequences removed)."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: str) -> None:
        master, slave = os.openpty()
        # a terminal's size as a person's window has it (a fresh pty says 0 x 0)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        self.fd = master
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _ATTACH, *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.raw = ""
        self.pos = 0  # what expect() has matched so far

    @property
    def screen(self) -> str:
        return _ANSI.sub("", self.raw)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the program closed the terminal (it exited)
            return False
        if not data:
            return False
        self.raw += data.decode(errors="replace")
        return True

    def expect(self, pattern: str, timeout: float = 120) -> str:
        """Wait until ``pattern`` appears after the last match; return the text matched."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.screen, self.pos)
            if found:
                self.pos = found.end()
                return found.group(0)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(min(remaining, 0.5)):
                if regex.search(self.screen, self.pos):
                    continue
                raise AssertionError(
                    f"{pattern!r} not shown within {timeout:g}s; the screen ends:\n"
                    + self.screen[-3000:]
                )

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 120) -> int:
        """The exit code, reading the terminal meanwhile (a full pty would block the program)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout:g}s:\n{self.screen[-3000:]}")
            self._read(0.2)
        while self._read(0.05):  # what it wrote last
            if not select.select([self.fd], [], [], 0)[0]:
                break
        return self.proc.returncode

    def close(self, grace_s: float = 90) -> None:
        """End the program if it still runs: SIGTERM first (drillbook reverts and removes its
        lab), SIGKILL after ``grace_s``."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.wait(timeout=grace_s)
            except AssertionError:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        os.close(self.fd)

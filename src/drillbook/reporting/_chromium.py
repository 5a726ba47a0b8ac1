"""Headless Chromium, the one launcher of the report pages' browser checks (the report tests,
``bench/reports.py``): Debian's ``chromium`` (installed by ``.ci/bootstrap --report-tools``),
the flags a headless run as root needs, a timeout, and a fresh profile directory that is always
removed, with every process Chromium started."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from drillbook.errors import DrillbookError

__all__ = ["CHROMIUM_FLAGS", "HeadlessChromium"]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # running as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
_HINT = "run .ci/bootstrap --report-tools (it installs Debian's chromium)"


class HeadlessChromium:
    """``chromium --headless`` on a page: its DOM once its scripts ran, or a screenshot.
    Raises DrillbookError (with a hint) when Chromium is missing, fails, or outlives
    ``timeout_s``."""

    def __init__(self, executable: str = "chromium", *, timeout_s: float = 120) -> None:
        self.given = executable
        self.timeout_s = timeout_s

    @property
    def executable(self) -> str:
        found = shutil.which(self.given)
        if found is None:
            raise DrillbookError(
                f"Chromium is not installed (no {self.given!r} on PATH)", hint=_HINT
            )
        return found

    def dump_dom(self, page: Path, *, virtual_time_ms: int = 5000) -> str:
        """The DOM after the page's scripts ran (its onload checks included)."""
        return self.run(page, f"--virtual-time-budget={virtual_time_ms}", "--dump-dom")

    def screenshot(
        self, page: Path, output: Path, *, width: int = 1280, height: int = 3000
    ) -> Path:
        """A PNG of ``page`` at ``width`` x ``height`` in ``output`` (replaced)."""
        output = Path(output).resolve()
        output.unlink(missing_ok=True)
        self.run(
            page,
            "--virtual-time-budget=5000",
            f"--window-size={width},{height}",
            f"--screenshot={output}",
        )
        if not output.is_file():
            raise DrillbookError(f"headless Chromium wrote no screenshot of {page} to {output}")
        return output

    def run(self, page: Path, *extra: str) -> str:
        """Chromium's standard output for ``page`` with the ``extra`` flags."""
        argv = [self.executable, *CHROMIUM_FLAGS]
        profile = Path(tempfile.mkdtemp(prefix="drillbook-chromium-"))
        try:
            # its own session: the helpers it forks (zygote, crashpad) are killed with it
            proc = subprocess.Popen(
                [*argv, f"--user-data-dir={profile}", *extra, Path(page).resolve().as_uri()],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            try:
                out, err = proc.communicate(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.communicate()
                raise DrillbookError(
                    f"headless Chromium did not finish {page} within {self.timeout_s:g}s",
                    hint="open the page in a browser: a script that never ends keeps it busy",
                ) from None
            finally:
                _kill_group(proc.pid)
        finally:
            _remove(profile)
        if proc.returncode != 0:
            tail = " | ".join(err.strip().splitlines()[-10:])
            raise DrillbookError(
                f"headless Chromium failed on {page} (exit {proc.returncode}): {tail}",
                hint=f"run it by hand: {' '.join(argv)} --dump-dom {Path(page).resolve().as_uri()}",
            )
        return out


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return  # nothing of it left


def _remove(profile: Path) -> None:
    """The profile directory, retried while a helper just killed may still be writing to it."""
    for _ in range(20):
        try:
            shutil.rmtree(profile)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)
    shutil.rmtree(profile, ignore_errors=True)

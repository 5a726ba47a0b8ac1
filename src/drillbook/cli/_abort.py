"""Ctrl-C and SIGTERM during ``drillbook run``: at once while a drill runs (the runner reverts
on its way out), held off while a drill finishes (from ``drill_finishing`` until the run loop
has its result). A revert is never cut short, and the drill's result, its breach with it,
reaches the journal with a note saying the run was aborted after it; then the run stops."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from drillbook.reporting import DrillLike, RunEventHandler
from drillbook.sla import DrillResult, Note

__all__ = ["AbortAfterRevert"]

_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class AbortAfterRevert(RunEventHandler):
    """Put it before the reporters: it hands its note to the result they write."""

    def __init__(self) -> None:
        self.finishing = False  # a drill is reverting, or its result being written
        self.pending = ""  # how the abort held off came ("Ctrl-C", "SIGTERM"); empty: none
        self._note: Note | None = None

    def drill_finishing(self, drill: DrillLike) -> None:
        self.finishing = True

    def drill_finished(self, drill: DrillLike, result: DrillResult) -> None:
        if self._note is not None:
            result.notes.append(self._note)
            self._note = None

    def stop_if_pending(self) -> None:
        """After each drill: lift the hold, then stop the run if an abort came during it."""
        self.finishing = False  # first: an abort from now on raises at once, none is lost
        if self.pending:
            raise KeyboardInterrupt(f"aborted ({self.pending})")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        how = _NAMES.get(signal.Signals(signum), str(signum))
        if not self.finishing:
            raise KeyboardInterrupt(how)  # as without this handler: the runner reverts
        if self.pending:
            print("drillbook: aborting once the drill has reverted; please wait", file=sys.stderr)
            return
        self.pending = how
        text = f"run aborted ({how}) while this drill reverted: the run stopped after it"
        self._note = Note(time.monotonic(), time.time(), "drillbook", text)
        print(f"drillbook: {how}: stopping once this drill has reverted", file=sys.stderr)

    @contextmanager
    def signals(self) -> Iterator[None]:
        """Ctrl-C and SIGTERM handled as above while the block runs (the main thread's)."""
        previous = {sig: signal.getsignal(sig) for sig in _NAMES}
        for sig in _NAMES:
            signal.signal(sig, self._on_signal)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

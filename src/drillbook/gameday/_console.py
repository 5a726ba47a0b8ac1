"""The game day's terminal: announces scenarios, keeps live incident clocks, takes answers.

On a terminal a status line is redrawn every second (the time since the fault took effect
against each budget); elsewhere (a pipe, a log) it is printed before each prompt instead. At
any prompt ``n <text>`` adds a note to the drill's journal and ``a`` aborts; Ctrl-C and
SIGTERM abort at any moment (``abort_on_signals``). An abort is :class:`GameDayAborted`, a
``KeyboardInterrupt``: the runner reverts the fault on its way out, as for Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import termios
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import NoReturn, TextIO

from drillbook.gameday._plan import Scenario
from drillbook.reporting import DrillLike, RunEventHandler
from drillbook.sla import Budget, DrillResult, IncidentClock, Mark, Note, Phase, measure_named

__all__ = ["GameDayAborted", "GameDayConsole", "abort_on_signals", "clock_text"]

_LABELS = {
    "time_to_detect": "detect",
    "time_to_alert": "alert",
    "time_to_respond": "respond",
    "time_to_recover": "recover",
    "time_to_clear": "clear",
}
_CLEAR = "\r\x1b[2K"  # to the start of the line, erase it
_ABOVE = "\x1b7\x1b[1A" + _CLEAR  # save the cursor, up one line (the status above a prompt)
_BACK = "\x1b8"  # restore the cursor (where the operator is typing)


class GameDayAborted(KeyboardInterrupt):
    """The game day was aborted (``a``, Ctrl-C, SIGTERM, end of input): revert and tear down."""

    def __init__(self, how: str, by: str) -> None:
        super().__init__(f"aborted ({how}) by {by}")
        self.how, self.by = how, by


def clock_text(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour), never negative."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    text = f"{rest // 60}:{rest % 60:02d}"
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else text


def _label(measure: str) -> str:
    return _LABELS.get(measure, measure.removeprefix("window:"))


@dataclass
class GameDayConsole(RunEventHandler):
    """The operator's view of a game day. It is also the run's first event handler: it sees
    each phase as the runner marks it, and hands the drill's notes and roles to the result
    before the reporters write it."""

    input: TextIO
    output: TextIO
    people: dict[str, str] = field(default_factory=dict)  # role -> who plays it
    clock: Callable[[], float] = time.monotonic  # the runner's clock: marks are on it
    wall: Callable[[], float] = time.time
    live: bool | None = None  # redraw the status line (default: when output is a terminal)
    interval_s: float = 1.0
    current: str = "operator"  # who is at the keyboard (notes are theirs)
    keeps_lab: bool = False  # the lab was up before the game day (--lab): an abort leaves it up
    scenario: Scenario | None = None
    budgets: tuple[Budget, ...] = ()
    marks: list[Mark] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _line_open: bool = False  # the status line is the last line, the cursor at its end
    _prompting: bool = False  # a prompt is shown, the status line just above it
    _running: bool = False  # between the fault in effect and the drill's end
    # the drill is reverting and its result being written: an abort waits until it is done
    finishing: bool = False
    pending: str = ""  # an abort that came while the drill was finishing (how)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        if self.live is None:
            self.live = bool(getattr(self.output, "isatty", lambda: False)())

    # -- output ------------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        self.output.write(text)
        self.output.flush()

    def say(self, text: str) -> None:
        """A line for the operator; on a terminal the live status line stays at the bottom."""
        with self._lock:
            if self.live and self._line_open:
                self._write(_CLEAR)
                self._line_open = False
            self._write(text + "\n")
            if self.live and self._running and not self._prompting:
                self._write(self._live_status())
                self._line_open = True

    def status_line(self, now: float | None = None) -> str:
        """``[drill] T+0:42  respond 0:31/2:00  recover 0:42/10:00``: each budget's measure so
        far (``ok``/``OVER`` once it ended), from the marks seen."""
        now = self.clock() if now is None else now
        view = IncidentClock(clock=lambda: now, marks=list(self.marks))
        active = view.first(Phase.ACTIVE)
        name = self.scenario.drill.name if self.scenario is not None else "-"
        parts = [f"[{name}] T+{clock_text(now - active.at) if active else '-'}"]
        for budget in self.budgets:
            measure = measure_named(budget.measure)
            limit = clock_text(budget.seconds)
            observed = measure.observe(view)
            if observed is not None:
                verdict = "ok" if observed <= budget.seconds else "OVER"
                parts.append(f"{_label(budget.measure)} {clock_text(observed)}/{limit} {verdict}")
                continue
            start = view.detected() if measure.start == Phase.DETECTED_PROBE else None
            start = start or view.first(measure.start)
            if start is None:
                parts.append(f"{_label(budget.measure)} -/{limit}")
                continue
            so_far = now - start.at
            over = " OVER" if so_far > budget.seconds else ""
            parts.append(f"{_label(budget.measure)} {clock_text(so_far)}/{limit}{over}")
        return "  ".join(parts)

    def _live_status(self) -> str:
        """The status line cut to the terminal's width: a wrapped line could not be redrawn."""
        line = self.status_line()
        try:
            width = os.get_terminal_size(self.output.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return line
        if width <= 1 or len(line) < width:  # 0: a terminal that never said its size
            return line
        return line[: width - 2] + "~"

    def redraw(self) -> None:
        """The status line again, in place: above the prompt while one is shown."""
        with self._lock:
            if not self._running:
                return
            if self._prompting:
                self._write(_ABOVE + self._live_status() + _BACK)
            elif self._line_open:
                self._write(_CLEAR + self._live_status())

    def _tick(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.redraw()

    def start_ticker(self) -> threading.Thread | None:
        """On a terminal, a thread redrawing the status line each ``interval_s``."""
        if not self.live:
            return None
        thread = threading.Thread(target=self._tick, name="gameday-clock", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self._line_open:
                self._write("\n")
                self._line_open = False

    # -- input -------------------------------------------------------------------------------
    def ask(self, prompt: str) -> str:
        """The operator's answer to ``prompt``; notes (``n <text>``) are taken and asked again,
        ``a`` aborts. End of input aborts too: nobody is there to answer."""
        while True:
            self._discard_typeahead()
            with self._lock:
                if self._line_open:
                    self._write(_CLEAR)
                    self._line_open = False
                if self._running:
                    self._write((self._live_status() if self.live else self.status_line()) + "\n")
                self._write(prompt)
                self._prompting = True
            try:
                line = self.input.readline()
            except GameDayAborted:
                raise
            except KeyboardInterrupt:
                self.abort("Ctrl-C")
            finally:
                with self._lock:
                    self._prompting = False
            if line == "":
                self._write("\n")
                self.abort("end of input")
            answer = line.strip()
            if answer.lower() in ("a", "abort"):
                self.abort("a")
            if answer == "n" or answer.startswith("n "):
                self.note(answer[1:].strip())
                continue
            return answer

    def _discard_typeahead(self) -> None:
        """On a terminal, what was typed before the question is dropped: a stray Enter must
        not start the next fault."""
        try:
            if self.input.isatty():
                termios.tcflush(self.input.fileno(), termios.TCIFLUSH)
        except (AttributeError, OSError, ValueError, termios.error):
            return

    def note(self, text: str) -> None:
        if not text:
            self.say("    (n TEXT: a note needs its text)")
            return
        entry = Note(self.clock(), self.wall(), self.current, text)
        self.notes.append(entry)
        self.say(f"    note by {entry.by} at {self._t(entry.at)}: {text}")

    def record(self, text: str, by: str) -> None:
        """A note the console takes itself (a step handed to automation: by whom, when)."""
        self.notes.append(Note(self.clock(), self.wall(), by, text))

    def abort(self, how: str) -> NoReturn:
        """Note who aborted and raise :class:`GameDayAborted` (the runner reverts the fault)."""
        self.notes.append(Note(self.clock(), self.wall(), self.current, f"aborted ({how})"))
        self.say(f"\n!!! ABORT ({how}) by {self.current}: reverting the fault, {self.lab_fate}")
        raise GameDayAborted(how, self.current)

    @property
    def lab_fate(self) -> str:
        """What an abort does with the lab, as the operator is told."""
        return "leaving the lab up" if self.keeps_lab else "removing the lab"

    # -- the scenario --------------------------------------------------------------------------
    def begin(self, scenario: Scenario, index: int, total: int, budgets: Sequence[Budget]) -> None:
        """Announce a scenario: briefing, who acknowledges, who does each step, the budgets."""
        self.scenario, self.budgets = scenario, tuple(budgets)
        self.marks, self.notes = [], []
        self.finishing, self.pending = False, ""
        drill = scenario.drill
        ack = scenario.acknowledge
        lines = [
            "",
            f"=== scenario {index}/{total}: {drill.name} ({drill.alert}) ===",
            *(f"    {line}" for line in scenario.briefing.splitlines()),
            f"    fault: {drill.fault.name}",
            f"    acknowledges: {ack} ({self.people.get(ack, ack)})",
        ]
        for i, step in enumerate(scenario.steps, 1):
            lines.append(f"    step {i}: {step.step}  -> {self._doer(step.by, step.role)}")
        for b in self.budgets:
            lines.append(
                f"    budget: {_label(b.measure)} <= {clock_text(b.seconds)}  ({b.source})"
            )
        for line in lines:
            self.say(line)

    def _doer(self, by: str, role: str | None) -> str:
        if by == "automation":
            return "automation" + (f" (watched by {role})" if role else "")
        assert role is not None
        return f"by hand: {role} ({self.people.get(role, role)})"

    def _t(self, at: float) -> str:
        active = next((m for m in self.marks if m.phase == Phase.ACTIVE), None)
        return f"T+{clock_text(at - active.at)}" if active else "before the fault"

    def drill_finishing(self, drill: DrillLike) -> None:
        # whatever the outcome (a breach too) the runner reverts now; run_plan lifts this once
        # every reporter has the result
        self.finishing = True

    def phase(self, drill: DrillLike, mark: Mark) -> None:
        with self._lock:
            self.marks.append(mark)
            if mark.phase == Phase.ACTIVE:
                self._running = True
        step = f" [{mark.step}]" if mark.step else ""
        who = f" ({mark.actor})" if mark.actor not in ("automation", "none") else ""
        self.say(f"    {self._t(mark.at)} {mark.phase.value}{step}{who} {mark.detail}".rstrip())

    def drill_finished(self, drill: DrillLike, result: DrillResult) -> None:
        with self._lock:
            self._running = False  # still finishing: the reporters after this handler write
            if self._line_open:
                self._write(_CLEAR)
                self._line_open = False
        # the reporters after this handler write the notes and who played each role
        result.notes = list(self.notes)
        if self.scenario is not None:
            result.roles = {r: self.people.get(r, r) for r in self.scenario.roles()}
        measured = ", ".join(
            f"{_label(b.measure)} {clock_text(result.measured[b.measure])}/{clock_text(b.seconds)}"
            for b in result.budgets
            if b.measure in result.measured
        )
        first = result.error.splitlines()[0] if result.error else ""
        self.say(
            f"--- {result.drill}: {result.outcome.upper()}"
            + (f" ({measured})" if measured else "")
            + (f": {first}" if first else "")
            + ("; fault reverted" if result.reverted else "")
        )


@contextmanager
def abort_on_signals(console: GameDayConsole) -> Iterator[None]:
    """Ctrl-C and SIGTERM abort the game day at any moment; one that comes while a drill is
    finishing (whatever its outcome: from ``drill_finishing`` until its result is written)
    stops the plan once that drill is done (``console.pending``, noted on the drill), and a
    second one only asks for patience: a revert is never cut short."""
    names = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}

    def patience(signum: int, frame: FrameType | None) -> None:
        fate = "the lab left up" if console.keeps_lab else "the lab removed"
        console.say(f"    (aborting: the fault is being reverted and {fate}; please wait)")

    def first(signum: int, frame: FrameType | None) -> None:
        for sig in names:
            signal.signal(sig, patience)
        how = names.get(signal.Signals(signum), str(signum))
        if console.finishing:  # never cut a revert short: stop once this drill is done
            console.pending = how
            text = f"aborted ({how}) while the drill reverted: the plan stops after it"
            console.record(text, console.current)
            console.say(f"\n!!! ABORT ({how}) by {console.current}: once this drill is reverted")
            return
        console.abort(how)

    previous = {sig: signal.getsignal(sig) for sig in names}
    for sig in names:
        signal.signal(sig, first)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

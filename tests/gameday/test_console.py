"""The game-day console against scripted input, on an injected clock."""

from __future__ import annotations

import fcntl
import io
import json
import os
import signal
import struct
import termios
import threading
import time
from pathlib import Path

import pytest

from drillbook.drills import default_runbook
from drillbook.drills.catalog import docker_drills
from drillbook.gameday import (
    GameDayAborted,
    GameDayConsole,
    RehearsalOperator,
    TerminalOperator,
    abort_on_signals,
    clock_text,
    load_plan,
)
from drillbook.reporting import JsonJournal
from drillbook.sla import Budget, DrillResult, IncidentClock, Phase

PLANS = Path(__file__).resolve().parents[2] / "drills" / "gameday"
SMOKE = load_plan(PLANS / "smoke.yaml", docker_drills(default_runbook()))
SCENARIO = SMOKE.scenarios[0]
DRILL = SCENARIO.drill
BUDGETS = (Budget("time_to_respond", 120, "rb:1"), Budget("time_to_recover", 600, "rb:2"))


class FakeTime:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _console(script: str, now: FakeTime, *, live: bool = False) -> GameDayConsole:
    console = GameDayConsole(
        io.StringIO(script), io.StringIO(), people=SMOKE.people(), clock=now, wall=now, live=live
    )
    console.begin(SCENARIO, 1, 1, BUDGETS)
    return console


def _mark(console: GameDayConsole, clock: IncidentClock, phase: Phase, **kw: object) -> None:
    console.phase(DRILL, clock.mark(phase, **kw))  # type: ignore[arg-type]


def _output(console: GameDayConsole) -> str:
    assert isinstance(console.output, io.StringIO)
    return console.output.getvalue()


def test_clock_text() -> None:
    assert [clock_text(s) for s in (0, 7.9, 61, 600, 3725, -3)] == [
        "0:00",
        "0:07",
        "1:01",
        "10:00",
        "1:02:05",
        "0:00",
    ]


def test_the_status_line_runs_each_clock_against_its_budget() -> None:
    now = FakeTime()
    console = _console("", now)
    clock = IncidentClock(clock=now, wall=now)
    assert console.status_line() == "[exchanges-lost] T+-  respond -/2:00  recover -/10:00"
    _mark(console, clock, Phase.ACTIVE)
    now.now += 2
    _mark(console, clock, Phase.DETECTED_PROBE)
    now.now += 40
    assert console.status_line() == "[exchanges-lost] T+0:42  respond 0:40/2:00  recover 0:42/10:00"
    now.now += 10
    _mark(console, clock, Phase.RESPONDED, actor="Robin")
    now.now += 100
    # respond ended at 0:50 (ok); recover still running
    assert (
        console.status_line() == "[exchanges-lost] T+2:32  respond 0:50/2:00 ok  recover 2:32/10:00"
    )
    now.now += 500
    assert console.status_line().endswith("recover 10:52/10:00 OVER")
    _mark(console, clock, Phase.RECOVERED)
    assert console.status_line().endswith("recover 10:52/10:00 OVER")


def test_notes_at_any_prompt_then_the_answer() -> None:
    now = FakeTime()
    console = _console("n the pager went off late\nn\nyes\n", now)
    clock = IncidentClock(clock=now, wall=now)
    _mark(console, clock, Phase.ACTIVE)
    now.now += 5
    assert console.ask("> ") == "yes"
    [note] = console.notes
    assert (note.at, note.by, note.text) == (1005.0, "operator", "the pager went off late")
    out = _output(console)
    assert "note by operator at T+0:05: the pager went off late" in out
    assert "(n TEXT: a note needs its text)" in out
    # not a terminal: the clocks are printed before each prompt instead of redrawn
    assert out.count("[exchanges-lost] T+0:05  respond -/2:00  recover 0:05/10:00\n> ") == 3


@pytest.mark.parametrize(("script", "how"), [("a\n", "a"), ("abort\n", "a"), ("", "end of input")])
def test_a_or_end_of_input_aborts_and_says_who(script: str, how: str) -> None:
    console = _console(script, FakeTime())
    console.current = "Robin"
    with pytest.raises(GameDayAborted) as info:
        console.ask("> ")
    assert (info.value.how, info.value.by) == (how, "Robin")
    assert isinstance(info.value, KeyboardInterrupt)  # the runner reverts on its way out
    assert console.notes[-1].text == f"aborted ({how})"
    assert f"ABORT ({how}) by Robin" in _output(console)


def test_ctrl_c_at_a_prompt_aborts() -> None:
    class Interrupted(io.StringIO):
        def readline(self, size: int | None = -1) -> str:
            raise KeyboardInterrupt

    console = _console("", FakeTime())
    console.input = Interrupted()
    with pytest.raises(GameDayAborted, match=r"aborted \(Ctrl-C\) by operator"):
        console.ask("> ")


def test_people_acknowledge_hand_steps_to_automation_or_do_them() -> None:
    now = FakeTime()
    script = "Robin\nmaybe\nn simulation first\nh\nd\nd Kim\n"
    console = _console(script, now)
    operator = TerminalOperator(console, SCENARIO)
    first, second = DRILL.steps
    assert operator.acknowledge(DRILL, "backend health: binance down") == "Robin"
    assert console.people["on-call"] == "Robin"  # whoever answered plays the role now
    assert operator.perform(DRILL, first) == "automation"  # handed over after a note
    assert operator.perform(DRILL, second) == "Alex"  # the incident commander, by hand
    assert operator.perform(DRILL, second) == "Kim"  # someone else did it
    assert [(n.by, n.text) for n in console.notes] == [
        ("Robin", "simulation first"),
        ("Robin", f"handed to automation: {first.name}"),
    ]
    out = _output(console)
    assert "acknowledge as on-call: your name (Enter: Sam) > " in out
    assert "step for incident-commander (Alex): escalate to management" in out
    assert "(d: done by hand, h: hand to automation, n TEXT: note, a: abort)" in out
    assert "-> handed to automation by Robin" in out


def test_enter_acknowledges_as_the_roles_person_and_automation_steps_need_no_answer() -> None:
    plan = load_plan(PLANS / "quarterly.yaml", docker_drills(default_runbook()))
    postgres = plan.scenarios[1]
    console = _console("\n", FakeTime())
    console.scenario = postgres
    operator = TerminalOperator(console, postgres)
    assert operator.acknowledge(postgres.drill, "postgres down") == "Sam"
    assert operator.perform(postgres.drill, postgres.drill.steps[0]) == "automation"
    assert "-> automation runs it" in _output(console)


def test_a_rehearsal_plays_every_role_with_automation() -> None:
    console = _console("", FakeTime())  # no input at all: a rehearsal asks nothing
    operator = RehearsalOperator(console, SCENARIO)
    assert operator.acknowledge(DRILL, "seen") == "automation as on-call"
    assert [operator.perform(DRILL, s) for s in DRILL.steps] == ["automation", "automation"]
    assert "rehearsal: automation runs for incident-commander: escalate" in _output(console)


def test_on_a_terminal_the_clock_is_redrawn_above_the_prompt() -> None:
    now = FakeTime()
    console = _console("", now, live=True)
    clock = IncidentClock(clock=now, wall=now)
    _mark(console, clock, Phase.ACTIVE)
    console.say("automation is working")
    before = _output(console)
    now.now += 3
    console.redraw()  # the status line is the last line: rewritten in place
    assert (
        _output(console)[len(before) :]
        == "\r\x1b[2K[exchanges-lost] T+0:03  respond -/2:00  recover 0:03/10:00"
    )
    console._prompting = True  # as while ask() waits for the operator
    mark = len(_output(console))
    now.now += 1
    console.redraw()  # saved cursor, one line up, the line rewritten, cursor back
    assert (
        _output(console)[mark:]
        == "\x1b7\x1b[1A\r\x1b[2K[exchanges-lost] T+0:04  respond -/2:00  recover 0:04/10:00\x1b8"
    )


def test_the_result_carries_notes_and_roles_into_the_journal(tmp_path: Path) -> None:
    now = FakeTime()
    console = _console("n calling the exchanges\n\n", now)
    clock = IncidentClock(clock=now, wall=now)
    _mark(console, clock, Phase.STEADY_STATE)
    now.now += 1
    _mark(console, clock, Phase.ACTIVE)
    now.now += 2.5
    console.current = "Robin"
    console.ask("> ")
    _mark(console, clock, Phase.RESPONDED, detail="acknowledged by Robin", actor="Robin")
    console.people["on-call"] = "Robin"
    journal = JsonJournal(tmp_path, "run-1", "gameday")
    result = DrillResult(DRILL.name, DRILL.alert, "passed", clock.marks, list(BUDGETS))
    for handler in (console, journal):  # the console first, as run_plan orders them
        handler.drill_finished(DRILL, result)
    [entry] = json.loads((tmp_path / "run-1" / "journal.json").read_text())["drills"]
    assert entry["notes"] == [
        {"t_s": 3.5, "wall": 1003.5, "by": "Robin", "text": "calling the exchanges"}
    ]
    assert entry["roles"] == {"on-call": "Robin", "incident-commander": "Alex"}
    assert entry["timeline"][-1]["actor"] == "Robin"
    assert "--- exchanges-lost: PASSED" in _output(console)


@pytest.mark.parametrize(("sig", "how"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")])
def test_signals_abort_once_then_ask_for_patience(sig: signal.Signals, how: str) -> None:
    console = _console("", FakeTime())
    before = signal.getsignal(sig)
    with abort_on_signals(console):
        with pytest.raises(GameDayAborted) as info:
            os.kill(os.getpid(), sig)
        assert info.value.how == how
        os.kill(os.getpid(), sig)  # while reverting: no second abort, only a message
        assert "please wait" in _output(console)
    assert signal.getsignal(sig) is before


@pytest.mark.parametrize(
    ("columns", "shown"),
    [
        (40, "[exchanges-lost] T+0:00  respond -/2:0~"),  # 39: below 40 columns, never wraps
        (0, "[exchanges-lost] T+0:00  respond -/2:00  recover 0:00/10:00"),  # size never set
    ],
)
def test_on_a_narrow_terminal_the_status_line_is_cut_not_wrapped(columns: int, shown: str) -> None:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    with os.fdopen(slave, "w") as out:
        now = FakeTime()
        console = GameDayConsole(io.StringIO(), out, people=SMOKE.people(), clock=now, wall=now)
        assert console.live  # a terminal, detected
        console.begin(SCENARIO, 1, 1, BUDGETS)
        _mark(console, IncidentClock(clock=now, wall=now), Phase.ACTIVE)
        os.read(master, 65536)
        console.redraw()
        line = os.read(master, 65536).decode().rsplit("\x1b[2K", 1)[-1]
    os.close(master)
    assert line == shown


def test_an_abort_while_the_drill_reverts_waits_for_it() -> None:
    now = FakeTime()
    console = _console("", now)
    clock = IncidentClock(clock=now, wall=now)
    _mark(console, clock, Phase.ACTIVE)
    _mark(console, clock, Phase.VERIFIED)
    console.drill_finishing(DRILL)  # the runner now reverts and checks steady state
    with abort_on_signals(console):
        os.kill(os.getpid(), signal.SIGTERM)  # no exception: the revert goes on
        os.kill(os.getpid(), signal.SIGINT)
    assert console.pending == "SIGTERM"
    assert [n.text for n in console.notes] == [
        "aborted (SIGTERM) while the drill reverted: the plan stops after it"
    ]
    out = _output(console)
    assert "ABORT (SIGTERM) by operator: once this drill is reverted" in out
    assert "please wait" in out
    console.begin(SCENARIO, 1, 1, BUDGETS)
    assert (console.finishing, console.pending) == (False, "")


def test_on_a_terminal_what_was_typed_before_the_question_is_dropped() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "r") as keyboard:
        console = GameDayConsole(keyboard, io.StringIO(), people=SMOKE.people())
        os.write(master, b"\n")  # a stray Enter while automation was working
        time.sleep(0.3)  # the line discipline has queued it
        later = threading.Timer(0.3, os.write, (master, b"Robin\n"))
        later.start()
        try:
            assert console.ask("> ") == "Robin"  # not the stray Enter
        finally:
            later.join()
    os.close(master)

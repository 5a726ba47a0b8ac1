"""The control plane's supervisor: the one parent of its processes, so none is left a zombie.

Design. ``ControlPlane.up`` starts one supervisor per cluster (this file run as a script, in a
session of its own, its log ``logs/supervisor.log``) and has it start each component: a JSON
line on its stdin, the pid back on its stdout. The supervisor is the parent of every component
and a child subreaper (``PR_SET_CHILD_SUBREAPER``: what a component forks and leaves is
reparented to it), and it waits on each child that exits, so a component that crashes or is
stopped is reaped at once, whichever process ran ``up`` and whether or not that process still
runs. SIGTERM, which ``ControlPlane.down`` sends from any process, makes it stop the components
in reverse start order (SIGTERM, SIGKILL after the grace), reap them and whatever they left,
and exit; ``down`` waits for that, and reaps the supervisor when it is its own child.

Why a supervisor: the components outlive ``drillbook k8s up``, so with no supervisor their
parent is PID 1 once that CLI exits, and a PID 1 that does not reap (``sleep infinity`` or a
shell as a container's entrypoint) keeps each one ``down`` stops as a zombie. The supervisor
is the child of the process that ran ``up``: ``down`` in that same process reaps it (the tests,
``drillbook run --env kubernetes``). After a separate ``drillbook k8s up`` it is PID 1's child,
like any daemon: on a PID 1 that reaps (on the development machine PID 1 is ``process_api``,
which does, within a second or two) nothing is left; a PID 1 that never reaps keeps the
supervisor alone as a zombie (one process that holds nothing, instead of five). No design
avoids that one: only a parent can reap a process, and a process that outlives the command
that started it has no parent but PID 1 (or a subreaper above that command). Likewise a
cluster started in one long-lived process and stopped from another leaves the supervisor a
zombie of the first until that one exits.

Standard library only, run with ``python -I``: it starts in tens of milliseconds and imports
nothing of drillbook.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["Supervisor", "running", "terminate"]

_PR_SET_NAME = 15
_PR_SET_CHILD_SUBREAPER = 36
#: the supervisor's name in ``ps`` (``/proc/<pid>/comm``)
NAME = "drillbook-plane"


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    return True


def reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is an exited child of this process (else nothing)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


class Supervisor:
    """The ``up`` side: a supervisor just spawned, and the pipe that asks it to start things."""

    def __init__(self, cluster: Path, log: Path, grace_s: float = 10) -> None:
        commands_r, self._commands = os.pipe()
        self._answers, answers_w = os.pipe()
        try:
            self.pid = os.posix_spawn(
                sys.executable,
                # the cluster's directory in its command line: what `ps` shows, and how a
                # process of the cluster is told from others
                [sys.executable, "-I", __file__, f"--cluster={cluster}", f"--grace={grace_s:g}"],
                dict(os.environ),
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, commands_r, 0),
                    (os.POSIX_SPAWN_DUP2, answers_w, 1),
                    (
                        os.POSIX_SPAWN_OPEN,
                        2,
                        str(log),
                        os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                        0o644,
                    ),
                ],
                setsid=True,  # no terminal's Ctrl-C reaches the cluster
            )
        except BaseException:
            self.close()
            raise
        finally:
            os.close(commands_r)
            os.close(answers_w)

    def start(self, name: str, path: str, argv: list[str], log: Path) -> tuple[int, int | None]:
        """Start ``path`` with ``argv``, its output appended to ``log``; its pid, and its wait
        status when it exited right at start. Raises OSError when the supervisor is gone."""
        line = json.dumps({"name": name, "path": path, "argv": argv, "log": str(log)})
        os.write(self._commands, line.encode() + b"\n")
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = os.read(self._answers, 4096)
            if not chunk:
                raise BrokenPipeError(f"supervisor (pid {self.pid}) exited without an answer")
            answer += chunk
        reply = json.loads(answer)
        status = reply["status"]
        return int(reply["pid"]), None if status is None else int(status)

    def close(self) -> None:
        """No more components: the supervisor goes on reaping until it is stopped."""
        for fd in (self._commands, self._answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._commands = self._answers = -1  # closed once: the numbers get reused


def terminate(pid: int, grace_s: float) -> bool:
    """SIGTERM ``pid``, SIGKILL after ``grace_s``, wait until it has exited, and reap it when
    it is this process's child; False when it was not running. For the supervisor, it has
    stopped and reaped the components by the time it exits."""
    if not running(pid):
        reap(pid)
        return False
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not running(pid):
            break
    reap(pid)  # once it has exited: a reap right after SIGKILL can come too early
    return True


# -- the supervisor process -----------------------------------------------------------------
class _Stop(Exception):
    """SIGTERM or SIGINT: stop the components, reap them, exit."""


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    # once: a second SIGTERM must not cut the stop short and leave the components running
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise _Stop(signum)


def _say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} supervisor {os.getpid()}: {message}", file=sys.stderr)
    sys.stderr.flush()


def _prctl(option: int, arg: int | bytes) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: no subreaper, no name
        ctypes.CDLL(None, use_errno=True).prctl(option, arg, 0, 0, 0)


def _children() -> list[int]:
    """This process's children now (also those a component left, reparented here)."""
    pids: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path("/proc/self/task").iterdir():
            with contextlib.suppress(OSError):
                pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


class _Plane:
    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.started: list[tuple[str, int]] = []
        self.exited: dict[int, int] = {}

    def _name(self, pid: int) -> str:
        return next((n for n, p in self.started if p == pid), "a child it adopted")

    def serve(self) -> None:
        """Start what ``up`` asks for until it closes the pipe, answering with each pid; reap
        meanwhile (a component that dies while ``up`` waits for another)."""
        pending = b""
        while True:
            readable, _, _ = select.select([0], [], [], 0.5)
            self._reap_exited()
            if not readable:
                continue
            chunk = os.read(0, 65536)
            if not chunk:
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self._start(json.loads(line))

    def _start(self, spec: dict[str, Any]) -> None:
        pid = os.posix_spawn(
            spec["path"],
            spec["argv"],
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (
                    os.POSIX_SPAWN_OPEN,
                    1,
                    spec["log"],
                    os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                    0o644,
                ),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
        )
        self.started.append((spec["name"], pid))
        _say(f"started {spec['name']} (pid {pid})")
        time.sleep(0.2)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            self.exited[pid] = status
            _say(f"{spec['name']} (pid {pid}) exited at start: status {status}")
        print(json.dumps({"pid": pid, "status": status if done else None}), flush=True)

    def _reap_exited(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            self._exited(pid, status)

    def _exited(self, pid: int, status: int) -> None:
        self.exited[pid] = status
        _say(f"{self._name(pid)} (pid {pid}) exited: status {status}")

    def reap_until_stopped(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:  # every child gone: wait for SIGTERM
                time.sleep(1)
                continue
            self._exited(pid, status)

    def stop(self) -> None:
        for name, pid in reversed(self.started):
            if pid in self.exited:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            status = self._wait(pid, self.grace_s)
            if status is None:
                _say(f"{name} (pid {pid}) still running {self.grace_s:g}s after SIGTERM: SIGKILL")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                status = os.waitpid(pid, 0)[1]
            self.exited[pid] = status
            _say(f"stopped {name} (pid {pid}): status {status}")
        while True:  # what is left (a component's own children): killed and reaped
            for pid in _children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            _say(f"reaped {self._name(pid)} (pid {pid}): status {status}")

    @staticmethod
    def _wait(pid: int, timeout_s: float) -> int | None:
        """``pid``'s wait status once it exits within ``timeout_s``, else None."""
        deadline = time.monotonic() + timeout_s
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


def main(argv: list[str]) -> int:
    grace_s = next((float(a.split("=", 1)[1]) for a in argv if a.startswith("--grace=")), 10.0)
    _prctl(_PR_SET_NAME, NAME.encode())
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    plane = _Plane(grace_s)
    _say(f"up (grace {grace_s:g}s)")
    try:
        plane.serve()
        plane.reap_until_stopped()
    except _Stop:
        _say("SIGTERM: stopping")
        plane.stop()
    _say("every process stopped and reaped: exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

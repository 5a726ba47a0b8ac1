from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def control_plane() -> Iterator[Path]:
    """A real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)
    on loopback for one test module, stopped after it (under make test's workers it may run
    beside another worker's Docker lab); its kubeconfig. Built by the bootstrap, cached by
    version."""
    from support.labtools import control_plane as plane

    # named by process: two test sessions (or xdist workers) never share a cluster
    with plane(f"tests-{os.getpid()}", nodes=3) as kubeconfig:
        yield kubeconfig


@pytest.fixture(scope="module")
def api(control_plane: Path) -> object:
    """An ApiClient of the official kubernetes client for the module's control plane."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(control_plane))


@dataclass(frozen=True)
class Proc:
    """One process in /proc; ``pid`` with ``started`` (clock ticks after boot) is its identity,
    so a recorded pid the system gave to another process since is not mistaken for it."""

    pid: int
    state: str  # "Z": a zombie (exited, never reaped)
    ppid: int
    started: int
    comm: str
    cmdline: str

    @classmethod
    def read(cls, pid: int) -> Proc | None:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            return None
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        fields = rest.split()  # from field 3, state, on
        return cls(pid, fields[0], int(fields[1]), int(fields[19]), comm, cmdline.strip())

    def __str__(self) -> str:
        what = "zombie" if self.state == "Z" else f"alive ({self.state})"
        return f"pid {self.pid} {self.comm!r} {what}, parent {self.ppid}: {self.cmdline[:120]}"


class ProcessTable:
    """The cluster's processes as /proc shows them: those recorded while it ran, and any
    process whose command line names its directory."""

    def record(self, pids: Iterable[int]) -> list[Proc]:
        found = [Proc.read(pid) for pid in pids]
        return [p for p in found if p is not None]

    def of(self, root: Path, recorded: Iterable[Proc]) -> list[Proc]:
        """Each process of the cluster still in /proc: a recorded one alive or a zombie, or an
        unrecorded one alive with ``root`` in its command line (a zombie's is empty)."""
        left = {}
        for before in recorded:
            now = Proc.read(before.pid)
            if now is not None and now.started == before.started:
                left[now.pid] = now
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) not in left:
                now = Proc.read(int(entry.name))
                if now is not None and str(root) in now.cmdline:
                    left[now.pid] = now
        return sorted(left.values(), key=lambda p: p.pid)

    def settled(self, root: Path, recorded: Iterable[Proc], timeout_s: float = 0) -> list[Proc]:
        """``of`` once nothing is left, or ``timeout_s`` (for a reap by another process) passed."""
        recorded = list(recorded)
        deadline = time.monotonic() + timeout_s
        while (left := self.of(root, recorded)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return left


@pytest.fixture
def processes() -> ProcessTable:
    """/proc, read for a cluster's processes (alive or zombies) after it went down."""
    return ProcessTable()

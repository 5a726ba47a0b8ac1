"""Database faults: a transaction that holds a lock (lock contention, a "slow query")."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

from drillbook.environments.docker import DockerLab
from drillbook.waiting import Check

__all__ = ["LockHeld"]

_APPLICATION = "drillbook-lock-held"


@dataclass(frozen=True)
class LockHeld:
    """A session opens a transaction, takes ``mode`` on ``table`` and sits on it (idle in
    transaction) for at most ``max_hold_s``: every query of the bot on that table waits behind
    it. The runbook's remedy is ``pg_terminate_backend``; revert closes the session."""

    table: str = "positions"
    mode: str = "ACCESS EXCLUSIVE"
    max_hold_s: float = 300.0
    _held: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, init=False)

    def __post_init__(self) -> None:
        if not self.table.replace("_", "").isalnum():
            raise ValueError(f"LockHeld table={self.table!r}: expected a plain table name")
        modes = {"ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE"}
        if self.mode not in modes:
            raise ValueError(f"LockHeld mode={self.mode!r}: expected one of {sorted(modes)}")
        if not 0 < self.max_hold_s <= 3600:
            raise ValueError(f"LockHeld max_hold_s={self.max_hold_s}: expected 0 < s <= 3600")

    @property
    def name(self) -> str:
        return f"a transaction holds {self.mode} on {self.table}"

    def inject(self, lab: DockerLab) -> None:
        import psycopg

        conn = psycopg.connect(
            lab.services()["postgres"].url,
            connect_timeout=5,
            application_name=_APPLICATION,
        )
        conn.execute(f"LOCK TABLE {self.table} IN {self.mode} MODE")  # opens the transaction
        release = threading.Event()
        self._held.update(conn=conn, release=release)

        def hold() -> None:  # bounded: the lock goes at the latest after max_hold_s
            release.wait(self.max_hold_s)
            with contextlib.suppress(Exception):
                conn.close()

        threading.Thread(target=hold, name="drillbook-lock-held", daemon=True).start()

    def verify_active(self, lab: DockerLab) -> Check:
        import psycopg

        with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                "WHERE l.granted AND l.relation = %s::regclass AND a.application_name = %s",
                (self.table, _APPLICATION),
            ).fetchone()
        held = bool(row and row[0])
        return Check(held, f"lock on {self.table} {'held' if held else 'not held'}")

    def revert(self, lab: DockerLab) -> None:
        release = self._held.pop("release", None)
        conn = self._held.pop("conn", None)
        if release is not None:
            release.set()
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

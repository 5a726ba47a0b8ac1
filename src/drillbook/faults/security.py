"""Security faults: the traces of an intrusion, for the runbook's Suspected Breach drill."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from drillbook.environments.docker import DockerLab
from drillbook.waiting import Check

__all__ = ["INTRUDER", "Intrusion"]

#: the actor the planted audit rows carry: the investigation must find it, revert removes it
INTRUDER = "unknown:203.0.113.66"  # TEST-NET-3: an address that can never be a real client
_MARK = "drillbook_fault"


@dataclass(frozen=True)
class Intrusion:
    """An intruder's traces in ``audit_logs``: ``failed_logins`` refused logins, then a login
    and a bulk read of ``users`` and ``trade_executions`` (what the runbook's investigation looks
    for: unauthorized access, data exfiltration). Nothing is really exfiltrated: the fault only
    writes audit rows, each marked so revert deletes exactly those."""

    failed_logins: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.failed_logins <= 1000:
            raise ValueError(f"Intrusion failed_logins={self.failed_logins}: expected 1 to 1000")

    @property
    def name(self) -> str:
        return f"intrusion by {INTRUDER} ({self.failed_logins} failed logins, bulk reads)"

    def _sql(
        self, lab: DockerLab, query: str, params: tuple[object, ...] = ()
    ) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
            cur = conn.execute(query, params)
            return list(cur.fetchall()) if cur.description else []

    def inject(self, lab: DockerLab) -> None:
        detail = json.dumps({"ip": INTRUDER.split(":", 1)[1], _MARK: True})
        rows = [("login_failed",)] * self.failed_logins + [
            ("login",),
            ("export:users",),
            ("export:trade_executions",),
        ]
        import psycopg

        url = lab.services()["postgres"].url
        with psycopg.connect(url, connect_timeout=5) as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit_logs (actor, action, detail) VALUES (%s, %s, %s::jsonb)",
                [(INTRUDER, action, detail) for (action,) in rows],
            )

    def verify_active(self, lab: DockerLab) -> Check:
        rows = self._sql(
            lab,
            "SELECT count(*) FROM audit_logs WHERE actor = %s AND detail ? %s",
            (INTRUDER, _MARK),
        )
        count = int(rows[0][0])
        return Check(count > 0, f"{count} audit row(s) by {INTRUDER}")

    def revert(self, lab: DockerLab) -> None:
        self._sql(
            lab,
            "DELETE FROM audit_logs WHERE actor = %s AND detail ? %s",
            (INTRUDER, _MARK),
        )

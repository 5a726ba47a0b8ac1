"""The runbook's Immediate Shutdown as a drill: a breach bad enough to stop everything.

Trading stopped (``EMERGENCY_SHUTDOWN=true``), every position closed, backend and frontend
scaled to zero, an emergency backup taken and verified. Recovered means shut down safely: no
replica running, no position open, no order in flight, a verified backup newer than the
incident, and the ledger matching the exchange's fills (nothing in flight lost).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from drillbook.drills._model import Drill, Invariant, Step
from drillbook.drills._security import NoIntrusionTraces
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import LabError
from drillbook.faults.security import Intrusion
from drillbook.probes import ServiceHealthy
from drillbook.sla import Budget

__all__ = ["ShutDownSafely", "immediate_shutdown"]

PROCEDURE = "Emergency Procedures / Complete System Shutdown / Immediate Shutdown"


@dataclass(frozen=True)
class ShutDownSafely:
    """Backend and frontend at zero replicas, no open position, no order in flight, and a
    verified backup written after ``since["t"]`` (epoch seconds)."""

    since: dict[str, float] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return "shut down safely"

    def check(self, lab: DockerLab) -> Any:
        import psycopg

        from drillbook.waiting import Check

        problems = [f"{s} still running" for s in ("backend", "frontend") if lab.replicas(s)]
        try:
            with psycopg.connect(lab.services()["postgres"].url, connect_timeout=3) as conn:
                open_ = conn.execute("SELECT count(*) FROM positions WHERE status = 'open'")
                n_open = open_.fetchone()[0]  # type: ignore[index]
                flight = conn.execute(
                    "SELECT count(*) FROM orders WHERE status IN ('pending', 'unknown')"
                ).fetchone()[0]  # type: ignore[index]
        except Exception as exc:
            return Check(False, f"{type(exc).__name__}: {exc}")
        if n_open:
            problems.append(f"{n_open} position(s) open")
        if flight:
            problems.append(f"{flight} order(s) in flight")
        _, out = lab.container("backup").exec_run(
            ["sh", "-c", "ls /backups/*emergency-shutdown-backup-*.sql.gz.ok 2>/dev/null"]
        )
        text = out.decode() if isinstance(out, bytes) else str(out)
        stamps = [
            int(name.rsplit("-", 1)[1].split(".")[0])
            for name in text.split()
            if name.rsplit("-", 1)[-1].split(".")[0].isdigit()
        ]
        if not any(s >= int(self.since.get("t", 0)) for s in stamps):
            problems.append("no verified emergency backup since the incident")
        return Check(not problems, "; ".join(problems) or "shut down safely")


def immediate_shutdown(budgets: tuple[Budget, ...], invariants: tuple[Invariant, ...]) -> Drill:
    """The drill; ``budgets`` from the catalogue (the runbook gives the shutdown no time of its
    own), ``invariants`` the ledger's."""
    down = ShutDownSafely()
    fault = Intrusion(failed_logins=50)

    def incident(platform: DockerPlatform) -> None:
        down.since["t"] = time.time() - 1

    def close_all(platform: DockerPlatform) -> None:
        status, body = platform.http_call(
            "backend", "api", "/api/emergency/close-all-positions", method="POST"
        )
        if status != 200 or body.get("failed"):
            raise LabError(f"close-all-positions answered {status}: {body}")

    def backup(platform: DockerPlatform) -> None:
        platform.create_backup("emergency-shutdown-backup")

    def bring_back(platform: DockerPlatform) -> None:
        for service in ("backend", "frontend"):
            if platform.lab.replicas(service) == 0:
                platform.scale(service, 1)
        platform.set_env("backend", {"EMERGENCY_SHUTDOWN": None})

    ref = f"{PROCEDURE} "
    steps = (
        Step(
            "kubectl set env deployment/backend EMERGENCY_SHUTDOWN=true",
            lambda p: p.set_env("backend", {"EMERGENCY_SHUTDOWN": "true"}),
            ref + "1 (Stop all trading immediately)",
        ),
        Step(
            "curl -X POST http://localhost:3000/api/emergency/close-all-positions",
            close_all,
            ref + "2 (Close all open positions)",
        ),
        Step(
            "kubectl scale deployment backend --replicas=0",
            lambda p: p.scale("backend", 0),
            ref + "3 (Scale down all services)",
        ),
        Step(
            "kubectl scale deployment frontend --replicas=0",
            lambda p: p.scale("frontend", 0),
            ref + "3 (Scale down all services)",
        ),
        Step(
            "kubectl create job --from=cronjob/postgres-backup emergency-shutdown-backup-<ts>",
            backup,
            ref + "4 (Create emergency backup)",
        ),
    )
    return Drill(
        "emergency-shutdown",
        "Immediate Shutdown",
        fault,
        (NoIntrusionTraces(), ServiceHealthy("backend")),
        steps,
        budgets,
        invariants,
        "a breach bad enough to stop: trading stopped, positions closed, everything scaled to "
        "zero, an emergency backup; nothing in flight lost",
        setup=(Step("note the incident's start", incident),),
        teardown=(Step("bring the system back (not part of the runbook)", bring_back),),
        recovered_when=(down,),
    )

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

__all__ = ["ShutDownSafely", "controlled_shutdown", "immediate_shutdown"]

PROCEDURE = "Emergency Procedures / Complete System Shutdown / Immediate Shutdown"


@dataclass(frozen=True)
class ShutDownSafely:
    """Backend and frontend at zero replicas, no open position, no order in flight, and a
    verified backup written after ``since["t"]`` (epoch seconds)."""

    since: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
    positions_closed: bool = True  # a controlled shutdown leaves positions as they are
    backup: bool = True  # ... and takes no backup

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
        if n_open and self.positions_closed:
            problems.append(f"{n_open} position(s) open")
        if flight:
            problems.append(f"{flight} order(s) in flight")
        if not self.backup:
            return Check(not problems, "; ".join(problems) or "shut down safely")
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


def immediate_shutdown(
    budgets: tuple[Budget, ...], invariants: tuple[Invariant[Any], ...]
) -> Drill:
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
    steps: tuple[Step[Any], ...] = (
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


CONTROLLED = "Emergency Procedures / Complete System Shutdown / Controlled Shutdown"


def controlled_shutdown(
    budgets: tuple[Budget, ...], invariants: tuple[Invariant[Any], ...]
) -> Drill:
    """The runbook's Controlled Shutdown: drain, stop routing, scale down gradually, stop the
    frontend. Recovered means stopped with nothing in flight (positions stay as they are: the
    procedure does not close them); the ledger invariant proves nothing in flight was lost."""
    import time as _time

    from drillbook.faults.planned import Scheduled
    from drillbook.waiting import Check, Wait

    down = ShutDownSafely(positions_closed=False, backup=False)

    def in_flight(platform: DockerPlatform) -> int:
        rows = platform.sql("SELECT count(*) FROM orders WHERE status IN ('pending', 'unknown')")
        return int(rows[0][0])

    def drained(platform: DockerPlatform) -> None:
        """``kubectl logs -f | grep -i "shutdown|complete"``, bounded: the bot says it has
        finished its in-flight work."""
        found: list[str] = []

        def said() -> Check:
            found[:] = [
                line
                for line in platform.logs("backend").splitlines()
                if "graceful shutdown: complete" in line
            ]
            return Check(bool(found), f"{len(found)} line(s)")

        Wait(timeout_s=60, poll_s=0.5).until(said, "the backend to report its drain complete")
        platform.save_evidence("graceful-shutdown.log", "\n".join(found) + "\n")

    def unrouted(platform: DockerPlatform) -> None:
        platform.patch_service_selector("backend", "maintenance")

    def gradually(platform: DockerPlatform) -> None:
        """``scale --replicas=1; sleep 60; scale --replicas=0``: the minute is spent waiting
        for the orders in flight to resolve, and cut short when none is left."""
        platform.scale("backend", 1)
        started = _time.monotonic()
        Wait(timeout_s=60, poll_s=0.5).until(
            lambda: Check(in_flight(platform) == 0, f"{in_flight(platform)} order(s) in flight"),
            "the orders in flight to resolve",
        )
        platform.save_evidence(
            "scale-down.txt", f"no order in flight after {_time.monotonic() - started:.1f}s\n"
        )
        platform.scale("backend", 0)

    def bring_back(platform: DockerPlatform) -> None:
        for service in ("backend", "frontend"):
            if platform.lab.replicas(service) == 0:
                platform.scale(service, 1)
        platform.set_env("backend", {"GRACEFUL_SHUTDOWN": None})

    ref = f"{CONTROLLED} "
    steps: tuple[Step[Any], ...] = (
        Step(
            "kubectl set env deployment/backend GRACEFUL_SHUTDOWN=true",
            lambda p: p.set_env("backend", {"GRACEFUL_SHUTDOWN": "true"}),
            ref + "1 (Enable graceful shutdown mode)",
        ),
        Step(
            'kubectl logs deployment/backend -f | grep -i "shutdown\\|complete"',
            drained,
            ref + "2 (Wait for current operations to complete)",
        ),
        Step(
            "kubectl patch service backend-service ... selector app=maintenance",
            unrouted,
            ref + "3 (Stop accepting new requests)",
        ),
        Step(
            "kubectl scale deployment backend --replicas=1; sleep 60; --replicas=0",
            gradually,
            ref + "4 (Scale down gradually)",
        ),
        Step(
            "kubectl scale deployment frontend --replicas=0",
            lambda p: p.scale("frontend", 0),
            ref + "5 (Shutdown supporting services)",
        ),
    )
    return Drill(
        "controlled-shutdown",
        "Controlled Shutdown",
        Scheduled("a controlled shutdown of the trading system"),
        (ServiceHealthy("backend"), ServiceHealthy("frontend")),
        steps,
        budgets,
        invariants,
        "drain in-flight work, stop routing to the backend, scale down, stop the frontend: "
        "nothing in flight lost",
        teardown=(Step("bring the system back (not part of the runbook)", bring_back),),
        recovered_when=(down,),
        planned=True,
    )

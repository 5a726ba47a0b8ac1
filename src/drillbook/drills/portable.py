"""The drills defined once for both lab backends: the runbook's steps through the verbs of the
:class:`~drillbook.environments.base.Platform` protocol; each backend supplies its verbs, and
with :class:`~drillbook.drills._model.Each` its own fault or probe where the two differ (a
container killed, pods deleted). ``docker_drills`` and ``kubernetes_drills`` take each of
these ``.on()`` their backend, beside the drills only one backend can run.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from drillbook.drills._budgets import budgets_for
from drillbook.drills._data_loss import data_loss
from drillbook.drills._invariants import INTEGRITY, LEDGER, no_ban
from drillbook.drills._model import Each, Invariant, PortableDrill, Step
from drillbook.environments.base import Platform
from drillbook.errors import LabError
from drillbook.faults import ExchangeRateLimited, ExchangeUnreachable, KillContainer, PriceShock
from drillbook.faults import MemoryLimit as ContainerMemoryLimit
from drillbook.faults.kubernetes import MemoryLimit as PodMemoryLimit
from drillbook.faults.kubernetes import PodKill
from drillbook.probes import ExposureBelow, Probe, ServiceHealthy
from drillbook.probes.kubernetes import BackendHealthy, RolloutComplete, WorkloadReady
from drillbook.probes.kubernetes import ExposureBelow as PodExposureBelow
from drillbook.runbook import Runbook
from drillbook.waiting import Check, Wait

__all__ = ["MARKER", "portable_drills"]

#: the row postgres-killed writes before the kill and looks for after it
MARKER = "postgres-killed"

#: the backend serving: its health check (Docker), its own /health in a pod (Kubernetes)
BACKEND: Each[tuple[Probe[Any], ...]] = Each((ServiceHealthy("backend"),), (BackendHealthy(),))


def _write_marker(platform: Platform) -> None:
    """Untimed setup: a row PostgreSQL must still have after the kill (where processes run:
    on simulated nodes nothing stores it, and the invariant is recorded as skipped)."""
    if not platform.runs_processes():
        return
    platform.sql(
        "CREATE TABLE IF NOT EXISTS drillbook_marker (drill text PRIMARY KEY, "
        "written timestamptz NOT NULL DEFAULT now())"
    )
    platform.sql(
        "INSERT INTO drillbook_marker (drill) VALUES (%s) ON CONFLICT DO NOTHING", (MARKER,)
    )


def _marker_kept(platform: Platform) -> Check:
    rows = platform.sql("SELECT drill FROM drillbook_marker WHERE drill = %s", (MARKER,))
    return Check(
        [tuple(r) for r in rows] == [(MARKER,)],
        "the row written before the kill is there"
        if rows
        else "the row written before the kill is gone: the database's data was lost",
    )


def _drop_marker(platform: Platform) -> None:
    if platform.runs_processes():
        platform.wait_ready("postgres", 300)  # a drill that failed early leaves it restarting
        platform.sql("DROP TABLE IF EXISTS drillbook_marker")


def _pg_isready_from_backend(platform: Platform) -> None:
    result = platform.exec(
        "backend", ["pg_isready", "-h", "postgres-service", "-p", "5432", "-t", "5"]
    )
    platform.save_evidence("pg_isready.txt", result.output)


def _database_size(platform: Platform) -> None:
    sql = "SELECT pg_database_size('trading_bot');"
    result = platform.exec("postgres", ["psql", "-U", "postgres", "-d", "trading_bot", "-c", sql])
    platform.save_evidence("pg_database_size.txt", result.output)


def _describe_backend(platform: Platform) -> None:
    """``kubectl describe pod <backend-pod>``: looked at again, for up to 20 s, until a replica
    shows why it stopped (``OOMKilled``, an error), as the one who runs it would; what it
    shows then is the evidence all the same."""
    shown: list[str] = []

    def described() -> Check:
        shown[:] = [platform.describe("backend")]
        why = [line for line in shown[0].splitlines() if "OOMKilled" in line or "Error" in line]
        return Check(bool(why), f"{len(why)} replica(s) show why they stopped")

    with contextlib.suppress(LabError):
        Wait(timeout_s=20, poll_s=1.0).until(described, "a backend replica's last state")
    platform.save_evidence("describe-backend-pods.txt", shown[0] if shown else "")


def _raise_memory_limit(platform: Platform) -> None:
    platform.patch_resources("backend", "4Gi", cpus=2)
    platform.wait_rollout("backend")


def _escalate_if_both_exchanges_down(platform: Platform) -> None:
    """The escalation rule "If multiple exchanges are affected, escalate to management": taken
    only when the backend's own view (its /health) shows both down; it notices each exchange
    on its next call, so it is looked at for up to 30 s."""
    down: list[str] = []

    def both_down() -> Check:
        status, health = platform.http("backend", 8080, "/health", timeout_s=2)
        if not isinstance(health, dict):
            return Check(False, f"GET /health -> {status}: {str(health)[:200]}")
        down[:] = [n for n in ("binance", "kucoin") if not health["dependencies"][n]["up"]]
        return Check(len(down) == 2, f"exchanges down: {down or 'none'}")

    try:
        Wait(timeout_s=30, poll_s=0.5).until(both_down, "the backend to see both exchanges down")
    except LabError as exc:
        raise LabError(f"escalation rule not met (need both exchanges down): {exc}") from exc
    platform.save_evidence(
        "escalation-management.txt",
        f"ExchangeConnectionLost on {', '.join(down)}: escalated to management "
        "(runbook: If multiple exchanges are affected, escalate to management)\n",
    )


def _wait_for_exposure(platform: Platform) -> None:
    """Untimed setup: positions held and open, so a price move has something to move."""

    def built() -> Check:
        status, risk = platform.http("backend", 3000, "/api/risk", timeout_s=2)
        if status != 200 or not isinstance(risk, dict):  # a replica still opening its port
            return Check(False, f"GET /api/risk -> {status}")
        ratio, limit = float(risk["exposure_ratio"]), float(risk["exposure_limit_ratio"])
        return Check(ratio >= 0.2 * limit, f"exposure {ratio:.3f} of limit {limit:g}")

    Wait(timeout_s=90, poll_s=0.5).until(built, "the bot to hold positions")


def _emergency_close(platform: Platform) -> None:
    """``curl -X POST http://backend-service:3000/api/risk/emergency-close``: the positions
    are the replicas' shared ones (PostgreSQL)."""
    status, body = platform.http(
        "backend",
        3000,
        "/api/risk/emergency-close",
        method="POST",
        body={"reason": "high_risk_exposure"},
    )
    if status != 200 or not isinstance(body, dict) or body.get("failed"):
        raise LabError(f"emergency close answered {status}: {str(body)[:300]}")
    platform.save_evidence("emergency-close.json", json.dumps(body, indent=2) + "\n")


class _Halt:
    """When every backend replica runs with ALLOW_NEW_POSITIONS=false (the database's clock,
    read once step 3's rollout is complete), and the invariant that no position was opened
    after it. Not "no position open": the runbook closes positions (step 2) before it halts
    new ones (step 3), and in between the bot, in emergency risk mode, may rightly open small
    ones within its quarter headroom (a finding recorded in CONTRACT.md)."""

    def __init__(self) -> None:
        self.since: str | None = None

    def halt(self, platform: Platform) -> None:
        platform.set_env(
            "backend", {"ALLOW_NEW_POSITIONS": "false", "SIGNAL_GENERATION_ENABLED": "false"}
        )
        platform.wait_rollout("backend")  # no replica without the flag is left
        self.since = str(platform.sql("SELECT now()")[0][0])

    def holds(self, platform: Platform) -> Check:
        if self.since is None:
            return Check(False, "ALLOW_NEW_POSITIONS=false was never rolled out")
        rows = platform.sql(
            "SELECT count(*) FROM positions WHERE opened_at > %s::timestamptz", (self.since,)
        )
        opened = int(rows[0][0])
        return Check(
            opened == 0, f"positions opened after every replica halted ({self.since}): {opened}"
        )


def _remember_backend() -> Step[Platform]:
    return Step(
        "save the backend's configuration and replicas (untimed)",
        lambda p: p.remember("backend"),
    )


def _restore_backend(what: str) -> Step[Platform]:
    return Step(
        f"{what}: the backend's saved configuration (untimed)", lambda p: p.restore("backend")
    )


def portable_drills(runbook: Runbook) -> list[PortableDrill]:
    """The drills both backends run, with budgets from ``runbook``."""
    tbd = budgets_for(runbook, "TradingBotDown")
    dbd = budgets_for(runbook, "DatabaseDown")
    ecl = budgets_for(runbook, "ExchangeConnectionLost")
    rate_limit = ExchangeRateLimited("both", 12.0)
    halt = _Halt()
    return [
        PortableDrill(
            "backend-killed",
            "TradingBotDown",
            Each(KillContainer("backend"), PodKill("backend", qty=3)),
            Each((ServiceHealthy("backend"),), (WorkloadReady("backend"),)),
            (
                Step(
                    "kubectl rollout restart deployment/backend",
                    lambda p: p.restart("backend"),
                    "TradingBotDown resolution 3 (If Application Error)",
                ),
            ),
            tbd,
            (INTEGRITY,),
            "every backend process SIGKILLed (the container; on Kubernetes its three pods at "
            "once, chaostoolkit-kubernetes terminate_pods); the runbook's rollout restart",
            alert_fires=Each(True, False),
            notes=Each(
                "",
                "The ReplicaSet replaces the pods by itself; TradingBotDown is not awaited: the "
                "new pods serve within about its for: 3s (on real nodes it fired at 6.0 s in "
                "one run and not at all in the next)",
            ),
        ),
        PortableDrill(
            "postgres-killed",
            "DatabaseDown",
            Each(KillContainer("postgres"), PodKill("postgres", qty=1)),
            Each(
                (ServiceHealthy("postgres"), ServiceHealthy("backend")),
                (WorkloadReady("postgres"),),
            ),
            (
                Step(
                    "kubectl delete pod -l app=postgres -n trading-bot",
                    lambda p: p.delete_pod("postgres"),
                    "Database Recovery, Minor Issues Recovery 1 (Restart database pod)",
                ),
                Step(
                    "kubectl wait --for=condition=ready pod -l app=postgres -n trading-bot "
                    "--timeout=300s",
                    lambda p: p.wait_ready("postgres", 300),
                    "Database Recovery, Minor Issues Recovery 2 (Wait for pod to be ready)",
                ),
                Step(
                    "kubectl exec -it deployment/backend -n trading-bot -- pg_isready -h "
                    "postgres-service -p 5432",
                    _pg_isready_from_backend,
                    "Database Recovery, Minor Issues Recovery 3 (Verify connectivity)",
                ),
                Step(
                    "kubectl exec -it <postgres-pod> -n trading-bot -- psql -U postgres -d "
                    "trading_bot -c \"SELECT pg_database_size('trading_bot');\"",
                    _database_size,
                    "Database Recovery, Minor Issues Recovery 4 (Check database integrity)",
                ),
            ),
            dbd,
            (
                INTEGRITY,
                Invariant("the row written before the kill survives on postgres-pvc", _marker_kept),
                # every order committed before the kill is still there (a forced delete of the
                # StatefulSet's pod lost two: faults.kubernetes._STATEFUL_GRACE_S)
                LEDGER,
            ),
            "PostgreSQL SIGKILLed (the container; on Kubernetes its pod, grace 0); the "
            "runbook's Minor Issues Recovery: delete the pod, wait for it, pg_isready from the "
            "backend, psql in it. A row written before must still be there (the data is on "
            "the volume, not in the container)",
            alert_fires=Each(True, False),
            notes=Each(
                "",
                "The StatefulSet starts it again on the same claim. DatabaseDown does not fire: "
                "its for: 3s outlasts the restart (a blip is not paged). On simulated nodes the "
                "exec steps and the row are recorded as skipped",
            ),
            setup=(Step("write a marker row (untimed)", _write_marker),),
            teardown=(Step("drop the marker table (untimed)", _drop_marker),),
        ),
        PortableDrill(
            "backend-crash-loop",
            "TradingBotDown",
            Each(
                ContainerMemoryLimit("backend", limit="48m", env=(("MEMORY_BALLAST_MB", "96"),)),
                PodMemoryLimit(),
            ),
            Each(
                (ServiceHealthy("backend"),),
                (WorkloadReady("backend"), RolloutComplete("backend")),
            ),
            (
                Step(
                    "kubectl describe pod <backend-pod> -n trading-bot",
                    _describe_backend,
                    "TradingBotDown resolution 1 (If Pod is CrashLooping: check for resource "
                    "constraints)",
                ),
                Step(
                    'kubectl patch deployment backend -n trading-bot -p \'{..."limits":'
                    '{"memory":"4Gi","cpu":"2"}...}\'',
                    _raise_memory_limit,
                    "TradingBotDown resolution 1 (If Pod is CrashLooping: increase resources)",
                ),
            ),
            tbd,
            (INTEGRITY,),
            "a release with a 48Mi memory limit and a 96 MB ballast: the kernel OOM-kills it at "
            "start (OOMKilled, exit 137); the runbook's describe and its 4Gi / 2 CPU patch",
            alert_fires=Each(True, False),
            notes=Each(
                "",
                "Each new pod crash-loops while two old replicas serve: TradingBotDown does not "
                "fire, the probes detect it. Real nodes only",
            ),
        ),
        PortableDrill(
            "exchange-rate-limited",
            "ExchangeConnectionLost",
            rate_limit,
            BACKEND,
            (
                Step(
                    "kubectl set env deployment/backend API_RATE_LIMIT_DELAY=1000",
                    lambda p: p.set_env("backend", {"API_RATE_LIMIT_DELAY": "1000"}),
                    "ExchangeConnectionLost resolution 2 (If Rate Limiting)",
                ),
                Step(
                    "kubectl scale deployment backend --replicas=1",
                    lambda p: p.scale("backend", 1),
                    "ExchangeConnectionLost resolution 2 (Scale down to reduce load)",
                ),
            ),
            ecl,
            (INTEGRITY, no_ban(rate_limit)),
            "both fake exchanges answer 429; slow down and scale down as the runbook says, "
            "never get banned",
            notes=Each("", "Real nodes only"),
            setup=(_remember_backend(),),
            teardown=(_restore_backend("API_RATE_LIMIT_DELAY and replicas back"),),
        ),
        PortableDrill(
            "exchanges-lost",
            "ExchangeConnectionLost",
            ExchangeUnreachable("both"),
            BACKEND,
            (
                Step(
                    "kubectl set env deployment/backend SIMULATE_TRADING=true",
                    lambda p: p.set_env("backend", {"SIMULATE_TRADING": "true"}),
                    "ExchangeConnectionLost resolution 4 (If Exchange Maintenance)",
                ),
                Step(
                    "escalate to management: multiple exchanges affected",
                    _escalate_if_both_exchanges_down,
                    "ExchangeConnectionLost escalation 2",
                ),
            ),
            ecl,
            (INTEGRITY, LEDGER),
            "both exchanges drop every connection (outage); trade in simulation until they are "
            "back, escalate to management (the backend's own /health, in simulation too, says "
            "both are down), resume live trading afterwards",
            notes=Each("", "Real nodes only"),
            setup=(_remember_backend(),),
            teardown=(_restore_backend("resume normal operation (SIMULATE_TRADING unset)"),),
            # the exchanges stay down while the bot simulates: the alert rightly keeps firing
            alert_clears_on_recovery=False,
        ),
        PortableDrill(
            "high-risk-exposure",
            "HighRiskExposure",
            PriceShock(percent=400),
            Each(
                (ExposureBelow(0.8), ServiceHealthy("backend")),
                (PodExposureBelow(0.8), WorkloadReady("backend")),
            ),
            (
                Step(
                    "kubectl set env deployment/backend EMERGENCY_RISK_MODE=true "
                    "MAX_POSITION_SIZE_PERCENT=1",
                    lambda p: p.set_env(
                        "backend", {"EMERGENCY_RISK_MODE": "true", "MAX_POSITION_SIZE_PERCENT": "1"}
                    ),
                    "HighRiskExposure resolution 1 (Immediate Risk Reduction)",
                ),
                Step(
                    "curl -X POST http://backend-service:3000/api/risk/emergency-close",
                    _emergency_close,
                    "HighRiskExposure resolution 2 (Close High-Risk Positions)",
                ),
                Step(
                    "kubectl set env deployment/backend ALLOW_NEW_POSITIONS=false "
                    "SIGNAL_GENERATION_ENABLED=false",
                    halt.halt,
                    "HighRiskExposure resolution 3 (Halt New Trading)",
                ),
                Step(
                    "kubectl set env deployment/backend MAX_POSITION_SIZE_PERCENT=2",
                    lambda p: p.set_env("backend", {"MAX_POSITION_SIZE_PERCENT": "2"}),
                    "HighRiskExposure resolution 4 (Gradually re-enable with lower limits)",
                ),
            ),
            budgets_for(runbook, "HighRiskExposure"),
            (
                INTEGRITY,
                Invariant("no position opened after ALLOW_NEW_POSITIONS=false", halt.holds),
            ),
            "a +400% pump on every held symbol pushes exposure over 80% of the limit; "
            "emergency risk mode, close everything, halt new positions, re-enable gradually",
            notes=Each(
                "",
                "Each set env is a rollout of the three replicas (one of them trades: the "
                "lease). Real nodes only",
            ),
            setup=(
                _remember_backend(),
                Step(
                    "hold positions: kubectl set env deployment/backend HOLD_TICKS=10000 (untimed)",
                    lambda p: p.set_env("backend", {"HOLD_TICKS": "10000"}),
                ),
                Step("wait until the bot holds positions (untimed)", _wait_for_exposure),
            ),
            teardown=(_restore_backend("back to normal trading"),),
        ),
        # the runbook gives Data Loss Recovery no times: DatabaseDown's (respond 2 min, restore
        # 15 min) are the nearest it states for the database
        data_loss(dbd, (INTEGRITY, LEDGER)),
    ]

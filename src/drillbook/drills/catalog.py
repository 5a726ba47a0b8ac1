"""The drills drillbook ships for the Docker lab, each tied to a runbook alert and its steps.

Budgets are never written here: they are read from the runbook (``budgets_for``) and tightened
by the run's profile.
"""

from __future__ import annotations

from collections.abc import Callable

from drillbook.drills._budgets import budgets_for, window_budgets
from drillbook.drills._corruption import corruption
from drillbook.drills._data_loss import data_loss, restore_if_lost
from drillbook.drills._key_compromise import api_key_compromise
from drillbook.drills._maintenance import planned_maintenance
from drillbook.drills._model import Drill, Invariant, Step
from drillbook.drills._security import suspected_breach
from drillbook.drills._shutdown import controlled_shutdown, immediate_shutdown
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import ConfigError, LabError
from drillbook.faults import (
    BlockPeer,
    DisconnectNetwork,
    ExchangeRateLimited,
    ExchangeUnreachable,
    HangProcess,
    KillContainer,
    MemoryLimit,
    MemoryPressure,
)
from drillbook.faults.database import LockHeld
from drillbook.faults.exchange import (
    KeyRevoked,
    PriceShock,
    admin_for,
    exchange_credentials,
    new_exchange_key,
)
from drillbook.faults.resources import CpuPressure, backend_cpu_ratio, backend_memory_ratio
from drillbook.faults.security import INTRUDER_ORDER_PREFIX
from drillbook.faults.storage import StorageUnavailable
from drillbook.probes import ExchangeConnected, ExposureBelow, ServiceHealthy
from drillbook.runbook import Runbook
from drillbook.sla import Budget
from drillbook.waiting import Check

__all__ = ["docker_drills", "select"]

BACKEND = (ServiceHealthy("backend"),)
DATA = (ServiceHealthy("postgres"), ServiceHealthy("backend"))


def _integrity(platform: DockerPlatform) -> Check:
    rows = platform.sql("SELECT check_name, detail FROM data_integrity_check()")
    return Check(not rows, f"{len(rows)} violation(s): {rows[:3]}")


INTEGRITY = Invariant("data_integrity_check() is empty", _integrity)


def _no_ban(platform: DockerPlatform) -> Check:
    bans = admin_for(platform.lab).stats()["bans"]
    return Check(bans == 0, f"{bans} IP ban(s) issued by the exchange")


NO_BAN = Invariant("the exchange issued no 418 ban", _no_ban)


def _ledger_matches_exchange(platform: DockerPlatform) -> Check:
    """Every fill at the exchange is in the ledger once (or its order is still unresolved),
    and the ledger has no trade the exchange never filled: nothing was traded twice or lost.
    Read ledger, fills, ledger: a trade completing meanwhile is in one of the two reads."""
    env = dict(
        e.split("=", 1)
        for e in platform.lab.container("exchange").attrs["Config"]["Env"] or []
        if "=" in e
    )
    admin = admin_for(platform.lab)
    query = "SELECT client_order_id FROM trade_executions WHERE exchange <> 'simulator'"
    before = [r[0] for r in platform.sql(query)]
    filled = {
        f["client_order_id"]
        for key in (env["BINANCE_API_KEY"], env["KUCOIN_API_KEY"])
        for f in admin.fills(key)
        # an intruder's trades with a leaked key (api-key-compromise) are not the bot's
        if not f["client_order_id"].startswith(INTRUDER_ORDER_PREFIX)
    }
    after = {r[0] for r in platform.sql(query)}
    unresolved = {
        r[0]
        for r in platform.sql(
            "SELECT client_order_id FROM orders WHERE status IN ('pending', 'unknown')"
        )
    }
    twice = len(before) - len(set(before))
    lost = filled - after - unresolved
    phantom = set(before) - filled
    return Check(
        not (twice or lost or phantom),
        f"{len(filled)} fill(s); recorded twice: {twice}; missing from the ledger: "
        f"{sorted(lost)[:3]}; never filled: {sorted(phantom)[:3]}",
    )


LEDGER = Invariant(
    "the ledger matches the exchange's fills (no double trade)", _ledger_matches_exchange
)


class MemoryHeadroom:
    """The backend's resident memory is below 85% of its limit (HighMemoryUsage is false)."""

    name = "backend memory below 85% of its limit"

    def check(self, lab: DockerLab) -> Check:
        try:
            ratio, detail = backend_memory_ratio(lab)
        except OSError as exc:
            return Check(False, f"/metrics: {exc}")
        return Check(ratio < 0.85, f"{ratio:.0%}: {detail}")


class CpuHeadroom:
    """The backend uses less than 80% of its CPU limit over two seconds (HighCPUUsage is false)."""

    name = "backend CPU below 80% of its limit"

    def check(self, lab: DockerLab) -> Check:
        try:
            ratio, detail = backend_cpu_ratio(lab, window_s=2.0)
        except (OSError, KeyError) as exc:
            return Check(False, f"/metrics: {exc}")
        return Check(ratio < 0.8, f"{ratio:.0%}: {detail}")


def _top_pods(platform: DockerPlatform) -> None:
    """``kubectl top pods --sort-by=cpu``: the backend's CPU against its limit, as evidence."""
    ratio, detail = backend_cpu_ratio(platform.lab)
    platform.save_evidence("top-pods.txt", f"backend\t{ratio:.0%}\t{detail}\n")


def _escalate_multiple_exchanges(platform: DockerPlatform) -> None:
    """The escalation rule "If multiple exchanges are affected, escalate to management": taken
    only when the backend's own view shows both down (escalating without cause fails)."""
    import urllib.error

    try:
        _, health = platform.http_call("backend", "health", "/health")
    except urllib.error.URLError as exc:
        raise LabError(f"cannot read the backend's health to decide escalation: {exc}") from exc
    down = [n for n in ("binance", "kucoin") if not health["dependencies"][n]["up"]]
    if len(down) < 2:
        raise LabError(f"escalation rule not met: exchanges down {down}, need both")
    platform.save_evidence(
        "escalation-management.txt",
        f"ExchangeConnectionLost on {', '.join(down)}: escalated to management "
        "(runbook: If multiple exchanges are affected, escalate to management)\n",
    )


def _describe_storage(platform: DockerPlatform) -> None:
    """``kubectl get pvc`` / ``describe pvc`` / ``get storageclass``: the container's state,
    the engine's error and the volumes it claims, as evidence."""
    container = platform.lab.container("postgres")
    container.reload()
    state = container.attrs["State"]
    claims = container.attrs["HostConfig"].get("Binds") or []
    platform.save_evidence(
        "postgres-pvc-describe.txt",
        f"postgres: {container.status}\nerror: {state.get('Error') or '-'}\n"
        + "".join(f"claims: {c}\n" for c in claims),
    )


def _step(name: str, run: Callable[[DockerPlatform], object], runbook: str) -> Step:
    return Step(name, run, runbook)


def _halt_holds(platform: DockerPlatform) -> Check:
    """No position opened since the backend runs with ALLOW_NEW_POSITIONS=false.

    Not "no position open": the runbook closes positions (step 2) before it halts new ones
    (step 3), and in between the bot, in emergency risk mode, may rightly open small positions
    within its quarter headroom (a finding recorded in CONTRACT.md)."""
    container = platform.lab.container("backend")
    container.reload()
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"] or [] if "=" in e)
    if env.get("ALLOW_NEW_POSITIONS") != "false":
        value = env.get("ALLOW_NEW_POSITIONS")
        return Check(False, f"backend runs with ALLOW_NEW_POSITIONS={value}")
    started = container.attrs["State"]["StartedAt"]  # RFC 3339 with nanoseconds
    since = started[:26].rstrip("Z") + "Z"
    rows = platform.sql(
        "SELECT count(*) FROM positions WHERE opened_at > %s::timestamptz", (since,)
    )
    return Check(rows == [(0,)], f"positions opened after the halt ({since}): {rows[0][0]}")


HALT_HOLDS = Invariant("no position opened after ALLOW_NEW_POSITIONS=false", _halt_holds)


def _wait_for_exposure(platform: DockerPlatform) -> None:
    """Setup: positions held and open, so a price move has something to move."""
    from drillbook.waiting import Wait

    def built() -> Check:
        status, risk = platform.http_call("backend", "api", "/api/risk")
        if status != 200:
            return Check(False, f"GET /api/risk -> {status}")
        ratio, limit = float(risk["exposure_ratio"]), float(risk["exposure_limit_ratio"])
        return Check(ratio >= 0.2 * limit, f"exposure {ratio:.3f} of limit {limit:g}")

    Wait(timeout_s=60, poll_s=0.25).until(built, "the bot to hold positions")


def _emergency_close(platform: DockerPlatform) -> None:
    status, body = platform.http_call(
        "backend",
        "api",
        "/api/risk/emergency-close",
        method="POST",
        body={"reason": "high_risk_exposure"},
    )
    if status != 200 or body.get("failed"):
        raise LabError(f"emergency close answered {status}: {body}")


def _terminate_blockers(platform: DockerPlatform) -> None:
    """Find the session the bot's queries wait on (pg_blocking_pids of every lock waiter) and
    end it, as the runbook's "Kill long-running queries" does with pg_terminate_backend."""
    rows = platform.sql(
        "SELECT pg_terminate_backend(b) FROM (SELECT DISTINCT unnest(pg_blocking_pids(pid)) AS b"
        " FROM pg_stat_activity WHERE datname = 'trading_bot' AND wait_event_type = 'Lock') s"
    )
    if not rows:
        raise LabError("no session blocks another: nothing to terminate")


def _key_rotation(exchange: str) -> tuple[Step, Step, Step]:
    """Setup (remember the key in use), the runbook's rotation, and the teardown that puts the
    remembered key back, so the lab is left with the credentials it had."""
    saved: dict[str, str] = {}

    def remember(platform: DockerPlatform) -> None:
        saved.clear()
        saved.update(exchange_credentials(platform.lab, exchange))

    def rotate(platform: DockerPlatform) -> object:
        new = new_exchange_key(platform.lab, exchange)  # "generate new keys" at the exchange
        return platform.rotate_secret("exchange-api-secrets", new)

    def restore(platform: DockerPlatform) -> None:
        if saved and exchange_credentials(platform.lab, exchange) != saved:
            platform.rotate_secret("exchange-api-secrets", saved)

    return (
        _step(f"remember the {exchange} key in use", remember, ""),
        _step(
            "kubectl create secret generic exchange-api-secrets ... | kubectl apply -f -; "
            "kubectl rollout restart deployment/backend",
            rotate,
            "ExchangeConnectionLost resolution 1 (If API Key Issues)",
        ),
        _step(f"put the original {exchange} key back", restore, ""),
    )


def docker_drills(runbook: Runbook) -> list[Drill]:
    """Every drill of the catalogue with budgets from ``runbook``."""
    tbd = budgets_for(runbook, "TradingBotDown")
    ecl = budgets_for(runbook, "ExchangeConnectionLost")
    dbd = budgets_for(runbook, "DatabaseDown")
    hre = budgets_for(runbook, "HighRiskExposure")
    rotation = _key_rotation("binance")
    restart = _step(
        "kubectl rollout restart deployment/backend",
        lambda p: p.restart("backend"),
        "TradingBotDown resolution 3 (If Application Error)",
    )
    immediate = window_budgets(runbook, "Security Incident Response", "Suspected Breach")[0]
    # the runbook gives Immediate Shutdown no time; a breach's immediate actions (< 5 min) do
    shutdown_budget = Budget(
        "time_to_recover",
        immediate.seconds,
        f"{immediate.source} (the shutdown's trigger: its immediate actions)",
    )
    partition = BlockPeer("backend", 5432)
    exchanges_cut = BlockPeer("backend", 8101, (8102,))
    redis_cut = BlockPeer("backend", 6379)
    cut = DisconnectNetwork("postgres")
    storage = StorageUnavailable("postgres", "postgres-data")
    return [
        Drill(
            "backend-killed",
            "TradingBotDown",
            KillContainer("backend"),
            BACKEND,
            (restart,),
            tbd,
            (INTEGRITY,),
            "SIGKILL the backend (the pod-kill analog); restart it as the runbook says",
        ),
        Drill(
            "backend-hung",
            "TradingBotDown",
            HangProcess("backend"),
            BACKEND,
            (restart,),
            tbd,
            (INTEGRITY,),
            "freeze the backend: process alive, health failing; rollout restart",
        ),
        Drill(
            "backend-crash-loop",
            "TradingBotDown",
            MemoryLimit("backend", limit="48m", env=(("MEMORY_BALLAST_MB", "96"),)),
            BACKEND,
            (
                _step(
                    "kubectl patch deployment backend ... limits memory 4Gi",
                    lambda p: p.patch_resources("backend", "4g"),
                    "TradingBotDown resolution 1 (If Pod is CrashLooping)",
                ),
            ),
            tbd,
            (INTEGRITY,),
            "a memory limit too low: OOM-killed at start; raise the limit",
        ),
        Drill(
            "postgres-killed",
            "DatabaseDown",
            KillContainer("postgres"),
            DATA,
            (
                _step(
                    "kubectl delete pod -l app=postgres",
                    lambda p: p.delete_pod("postgres"),
                    "DatabaseDown resolution 1 (If Pod is Not Running)",
                ),
            ),
            dbd,
            (INTEGRITY,),
            "SIGKILL PostgreSQL; the runbook deletes the pod to restart it",
        ),
        Drill(
            "postgres-storage-unavailable",
            "DatabaseDown",
            storage,
            DATA,
            (
                _step(
                    "kubectl get pvc; kubectl describe pvc postgres-pvc; kubectl get storageclass",
                    _describe_storage,
                    "DatabaseDown resolution 2 (If Storage Issues)",
                ),
                _step(
                    "provide the volume postgres-pvc claims; kubectl delete pod -l app=postgres",
                    lambda p: storage.revert(p.lab),
                    "DatabaseDown resolution 2 (If PVC is pending) and 1 (Delete pod)",
                ),
                _step(
                    "restore from backup if the data was lost",
                    restore_if_lost,
                    "DatabaseDown resolution 4 (If Complete Failure)",
                ),
            ),
            dbd,
            (INTEGRITY, LEDGER),
            "postgres rescheduled and its volume cannot be provided (the PVC-Pending analog): "
            "never starts; storage provided, data checked, restored if lost",
        ),
        Drill(
            "backend-cut-from-postgres",
            "DatabaseDown",
            partition,
            DATA,
            (
                _step(
                    "kubectl apply -f k8s/network-policies.yaml",
                    lambda p: partition.revert(p.lab),
                    "ExchangeConnectionLost resolution 3 / Network Partition Recovery",
                ),
            ),
            dbd,
            (INTEGRITY,),
            "packets from the backend to 5432 dropped in its own namespace",
        ),
        Drill(
            "exchange-rate-limited",
            "ExchangeConnectionLost",
            ExchangeRateLimited("both", 12.0),
            BACKEND,
            (
                _step(
                    "kubectl set env deployment/backend API_RATE_LIMIT_DELAY=1000",
                    lambda p: p.set_env("backend", {"API_RATE_LIMIT_DELAY": "1000"}),
                    "ExchangeConnectionLost resolution 2 (If Rate Limiting)",
                ),
                _step(
                    "kubectl scale deployment backend --replicas=1",
                    lambda p: p.scale("backend", 1),
                    "ExchangeConnectionLost resolution 2 (Scale down to reduce load)",
                ),
            ),
            ecl,
            (INTEGRITY, NO_BAN),
            "both exchanges answer 429; slow down as the runbook says, never get banned",
            teardown=(
                _step(
                    "restore API_RATE_LIMIT_DELAY",
                    lambda p: p.set_env("backend", {"API_RATE_LIMIT_DELAY": None}),
                    "",
                ),
            ),
        ),
        Drill(
            "postgres-partitioned",
            "DatabaseDown",
            cut,
            DATA,
            (
                _step(
                    "reconnect postgres-service to the network",
                    lambda p: cut.revert(p.lab),
                    "Network Partition Recovery, step 2",
                ),
            ),
            dbd,
            (INTEGRITY,),
            "postgres taken off the lab network; peers cannot resolve it",
        ),
        Drill(
            "high-risk-exposure",
            "HighRiskExposure",
            PriceShock(percent=400),
            (ExposureBelow(0.8), ServiceHealthy("backend")),
            (
                _step(
                    "kubectl set env deployment/backend EMERGENCY_RISK_MODE=true "
                    "MAX_POSITION_SIZE_PERCENT=1",
                    lambda p: p.set_env(
                        "backend",
                        {"EMERGENCY_RISK_MODE": "true", "MAX_POSITION_SIZE_PERCENT": "1"},
                    ),
                    "HighRiskExposure resolution 1 (Immediate Risk Reduction)",
                ),
                _step(
                    "POST :3000/api/risk/emergency-close",
                    _emergency_close,
                    "HighRiskExposure resolution 2 (Close High-Risk Positions)",
                ),
                _step(
                    "kubectl set env deployment/backend ALLOW_NEW_POSITIONS=false "
                    "SIGNAL_GENERATION_ENABLED=false",
                    lambda p: p.set_env(
                        "backend",
                        {"ALLOW_NEW_POSITIONS": "false", "SIGNAL_GENERATION_ENABLED": "false"},
                    ),
                    "HighRiskExposure resolution 3 (Halt New Trading)",
                ),
                _step(
                    "kubectl set env deployment/backend MAX_POSITION_SIZE_PERCENT=2",
                    lambda p: p.set_env("backend", {"MAX_POSITION_SIZE_PERCENT": "2"}),
                    "HighRiskExposure resolution 4 (Gradually re-enable with lower limits)",
                ),
            ),
            hre,
            (INTEGRITY, HALT_HOLDS),
            "a +400% pump on every held symbol pushes exposure over 80% of the limit; "
            "emergency risk mode, close everything, halt new positions, re-enable gradually",
            setup=(
                _step(
                    "hold positions (HOLD_TICKS=10000)",
                    lambda p: p.set_env("backend", {"HOLD_TICKS": "10000"}),
                    "",
                ),
                _step("wait until the bot holds positions", _wait_for_exposure, ""),
            ),
            teardown=(
                _step(
                    "back to normal trading",
                    lambda p: p.set_env(
                        "backend",
                        {
                            "HOLD_TICKS": "4",
                            "EMERGENCY_RISK_MODE": None,
                            "MAX_POSITION_SIZE_PERCENT": None,
                            "ALLOW_NEW_POSITIONS": None,
                            "SIGNAL_GENERATION_ENABLED": None,
                        },
                    ),
                    "",
                ),
            ),
        ),
        Drill(
            "exchange-key-revoked",
            "ExchangeConnectionLost",
            KeyRevoked("binance"),
            (ExchangeConnected("binance"), ServiceHealthy("backend")),
            (rotation[1],),
            ecl,
            (INTEGRITY,),
            "the exchange refuses the bot's Binance key; new key for the same account, secret "
            "updated, rollout; the bot fails over to KuCoin meanwhile",
            setup=(rotation[0],),
            teardown=(rotation[2],),
        ),
        Drill(
            "backend-memory-pressure",
            "HighMemoryUsage",
            MemoryPressure(),
            (MemoryHeadroom(), ServiceHealthy("backend")),
            (
                _step(
                    "kubectl patch deployment backend ... limits memory 4Gi",
                    lambda p: p.patch_resources("backend", "4g"),
                    "High Memory Usage resolution 1 (Increase memory limits)",
                ),
            ),
            # the performance section states no times; TradingBotDown's are the backend's
            tbd,
            (INTEGRITY,),
            "the backend holds a ballast close to its memory limit (not OOM-killed); raise the "
            "limit as the runbook says. Not done: resolution 4's scale to 4 replicas (each "
            "replica would trade: CONTRACT.md)",
        ),
        Drill(
            "backend-cpu-pressure",
            "HighCPUUsage",
            CpuPressure(),
            (CpuHeadroom(), ServiceHealthy("backend")),
            (
                _step(
                    "kubectl top pods --sort-by=cpu",
                    _top_pods,
                    "High CPU Usage investigation 1 (Identify high CPU pods)",
                ),
                _step(
                    "kubectl patch deployment backend ... limits cpu 2",
                    lambda p: p.patch_resources("backend", cpus=2.0),
                    "High CPU Usage resolution 2 (Increase CPU limits)",
                ),
            ),
            # the performance section states no times; TradingBotDown's are the backend's
            tbd,
            (INTEGRITY,),
            "a hot code path at the backend's CPU limit; raise the limit as the runbook says. "
            "Not done: resolution 1's scale to 5 replicas (each would trade: CONTRACT.md), "
            "resolution 3's NODE_OPTIONS (a Node.js flag; the backend is Python)",
        ),
        Drill(
            "exchanges-lost",
            "ExchangeConnectionLost",
            ExchangeUnreachable("both"),
            BACKEND,
            (
                _step(
                    "kubectl set env deployment/backend SIMULATE_TRADING=true",
                    lambda p: p.set_env("backend", {"SIMULATE_TRADING": "true"}),
                    "ExchangeConnectionLost resolution 4 (If Exchange Maintenance)",
                ),
                _step(
                    "escalate to management: multiple exchanges affected",
                    _escalate_multiple_exchanges,
                    "ExchangeConnectionLost escalation 2",
                ),
            ),
            ecl,
            (INTEGRITY, LEDGER),
            "both exchanges drop every connection (outage); trade in simulation until they "
            "are back, escalate to management, resume live trading afterwards",
            teardown=(
                _step(
                    "resume normal operation (SIMULATE_TRADING unset)",
                    lambda p: p.set_env("backend", {"SIMULATE_TRADING": None}),
                    "ExchangeConnectionLost resolution 4: resume when the exchange is available",
                ),
            ),
            # the exchanges stay down while the bot simulates: the alert rightly keeps firing
            alert_clears_on_recovery=False,
        ),
        Drill(
            "backend-cut-from-redis",
            "Network Partition",
            redis_cut,
            (ExchangeConnected("redis"), ServiceHealthy("backend")),
            (
                _step(
                    "kubectl apply -f k8s/network-policies.yaml",
                    lambda p: redis_cut.revert(p.lab),
                    "Network Partition Recovery / Recovery Actions",
                ),
            ),
            # no alert and no times for a partition in the runbook: TradingBotDown's budgets
            tbd,
            (INTEGRITY, LEDGER),
            "the backend's packets to Redis rejected; the bot keeps trading without its cache "
            "and must not trade twice: the ledger matches the exchange's fills",
        ),
        Drill(
            "backend-cut-from-exchanges",
            "ExchangeConnectionLost",
            exchanges_cut,
            BACKEND,
            (
                _step(
                    "kubectl apply -f k8s/network-policies.yaml",
                    lambda p: exchanges_cut.revert(p.lab),
                    "ExchangeConnectionLost resolution 3 (If Network Issues)",
                ),
            ),
            ecl,
            (INTEGRITY, LEDGER),
            "the backend's packets to both exchanges rejected (a partition); the bot must not "
            "trade twice across it: the ledger matches the exchange's fills",
        ),
        suspected_breach(runbook),
        api_key_compromise(runbook, (INTEGRITY, LEDGER)),
        # the runbook gives Data Loss Recovery no times: DatabaseDown's (respond 2 min, restore
        # 15 min) are the nearest it states for the database
        data_loss(dbd, (INTEGRITY, LEDGER)),
        # the runbook gives corruption DatabaseDown's times (resolution 3 of that alert)
        corruption(dbd, (INTEGRITY, LEDGER)),
        immediate_shutdown((shutdown_budget,), (INTEGRITY, LEDGER)),
        # the runbook gives Controlled Shutdown no time: the immediate shutdown's bound
        controlled_shutdown((shutdown_budget,), (INTEGRITY, LEDGER)),
        # the runbook gives the maintenance window no length; trading is stopped meanwhile,
        # so TradingBotDown's escalation threshold bounds it
        planned_maintenance(
            tuple(b for b in tbd if b.measure == "time_to_recover"), (INTEGRITY, LEDGER)
        ),
        Drill(
            "lock-contention",
            "SlowQueries",
            LockHeld("positions"),
            BACKEND,
            (
                _step(
                    "SELECT pg_terminate_backend(<pid>)",
                    _terminate_blockers,
                    "Slow Database Queries resolution 1 (Kill long-running queries)",
                ),
            ),
            # the runbook gives the performance section no times; the bot stalls behind the
            # lock, which is TradingBotDown, so its budgets apply
            tbd,
            (INTEGRITY,),
            "a session holds ACCESS EXCLUSIVE on positions; the bot's trading loop stalls; "
            "find the blocker and terminate it",
        ),
    ]


def select(drills: list[Drill], names: list[str]) -> list[Drill]:
    """The drills named (by drill name or by alert); all when ``names`` is empty."""
    if not names:
        return drills
    chosen = [d for d in drills if d.name in names or d.alert in names]
    unknown = [n for n in names if not any(n in (d.name, d.alert) for d in drills)]
    if unknown:
        raise ConfigError(
            f"unknown drill {unknown[0]!r}",
            hint=f"drills: {', '.join(d.name for d in drills)} (or an alert name)",
        )
    return chosen

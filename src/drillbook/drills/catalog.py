"""The drills drillbook ships for the Docker lab, each tied to a runbook alert and its steps:
the portable ones (``drills/portable.py``) as the Docker lab runs them, and those only it has.

Budgets are never written here: they are read from the runbook (``budgets_for``) and tightened
by the run's profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drillbook.drills._budgets import budgets_for, window_budgets
from drillbook.drills._corruption import corruption
from drillbook.drills._data_loss import restore_if_lost
from drillbook.drills._invariants import INTEGRITY, LEDGER
from drillbook.drills._key_compromise import api_key_compromise
from drillbook.drills._maintenance import planned_maintenance
from drillbook.drills._model import Drill, Step
from drillbook.drills._security import suspected_breach
from drillbook.drills._shutdown import controlled_shutdown, immediate_shutdown
from drillbook.drills.portable import portable_drills
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import ConfigError, LabError
from drillbook.faults import (
    BlockPeer,
    DisconnectNetwork,
    HangProcess,
    MemoryPressure,
)
from drillbook.faults.database import LockHeld
from drillbook.faults.exchange import (
    KeyRevoked,
    exchange_credentials,
    new_exchange_key,
)
from drillbook.faults.resources import CpuPressure, backend_cpu_ratio, backend_memory_ratio
from drillbook.faults.storage import StorageUnavailable
from drillbook.probes import ExchangeConnected, ServiceHealthy
from drillbook.runbook import Runbook
from drillbook.sla import Budget
from drillbook.waiting import Check

__all__ = ["docker_drills", "select"]

BACKEND = (ServiceHealthy("backend"),)
DATA = (ServiceHealthy("postgres"), ServiceHealthy("backend"))


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


def _step(name: str, run: Callable[[DockerPlatform], object], runbook: str) -> Step[Any]:
    return Step(name, run, runbook)


def _terminate_blockers(platform: DockerPlatform) -> None:
    """Find the session the bot's queries wait on (pg_blocking_pids of every lock waiter) and
    end it, as the runbook's "Kill long-running queries" does with pg_terminate_backend."""
    rows = platform.sql(
        "SELECT pg_terminate_backend(b) FROM (SELECT DISTINCT unnest(pg_blocking_pids(pid)) AS b"
        " FROM pg_stat_activity WHERE datname = 'trading_bot' AND wait_event_type = 'Lock') s"
    )
    if not rows:
        raise LabError("no session blocks another: nothing to terminate")


def _key_rotation(exchange: str) -> tuple[Step[Any], Step[Any], Step[Any]]:
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
    shared = {d.name: d.on("docker") for d in portable_drills(runbook)}
    return [
        shared["backend-killed"],
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
        shared["backend-crash-loop"],
        shared["postgres-killed"],
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
        shared["exchange-rate-limited"],
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
        shared["high-risk-exposure"],
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
        shared["exchanges-lost"],
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
        shared["ledger-data-loss"],
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

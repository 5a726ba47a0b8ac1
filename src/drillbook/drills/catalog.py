"""The drills drillbook ships for the Docker lab, each tied to a runbook alert and its steps.

Budgets are never written here: they are read from the runbook (``budgets_for``) and tightened
by the run's profile.
"""

from __future__ import annotations

from collections.abc import Callable

from drillbook.drills._budgets import budgets_for
from drillbook.drills._model import Drill, Invariant, Step
from drillbook.environments.docker import DockerPlatform
from drillbook.errors import ConfigError
from drillbook.faults import (
    BlockPeer,
    DisconnectNetwork,
    ExchangeRateLimited,
    HangProcess,
    KillContainer,
    MemoryLimit,
)
from drillbook.faults.exchange import admin_for
from drillbook.probes import ServiceHealthy
from drillbook.runbook import Runbook
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


def _step(name: str, run: Callable[[DockerPlatform], object], runbook: str) -> Step:
    return Step(name, run, runbook)


def docker_drills(runbook: Runbook) -> list[Drill]:
    """Every drill of the catalogue with budgets from ``runbook``."""
    tbd = budgets_for(runbook, "TradingBotDown")
    ecl = budgets_for(runbook, "ExchangeConnectionLost")
    dbd = budgets_for(runbook, "DatabaseDown")
    restart = _step(
        "kubectl rollout restart deployment/backend",
        lambda p: p.restart("backend"),
        "TradingBotDown resolution 3 (If Application Error)",
    )
    partition = BlockPeer("backend", 5432)
    cut = DisconnectNetwork("postgres")
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
            ExchangeRateLimited("both", 8.0),
            BACKEND,
            (
                _step(
                    "kubectl set env deployment/backend API_RATE_LIMIT_DELAY=1000",
                    lambda p: p.set_env("backend", {"API_RATE_LIMIT_DELAY": "1000"}),
                    "ExchangeConnectionLost resolution 2 (If Rate Limiting)",
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

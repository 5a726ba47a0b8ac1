"""Faults a drill injects into the Docker lab: one module per fault family."""

from drillbook.environments.docker import DockerLab
from drillbook.faults._base import Fault
from drillbook.faults.container import HangProcess, KillContainer, StopContainer
from drillbook.faults.database import LedgerWiped, LockHeld, TableCorrupted
from drillbook.faults.exchange import (
    ExchangeMaintenance,
    ExchangeRateLimited,
    ExchangeUnreachable,
    KeyRevoked,
    PriceShock,
)
from drillbook.faults.network import BlockPeer, DisconnectNetwork
from drillbook.faults.planned import Scheduled
from drillbook.faults.resources import CpuPressure, MemoryLimit, MemoryPressure
from drillbook.faults.security import Intrusion, KeyCompromised
from drillbook.faults.storage import StorageUnavailable
from drillbook.registry import Registry

#: every fault by the name plans, schedules and experiments use for it
FAULTS: Registry[Fault[DockerLab]] = Registry("fault")
for _name, _cls in (
    ("kill_container", KillContainer),
    ("stop_container", StopContainer),
    ("hang_process", HangProcess),
    ("disconnect_network", DisconnectNetwork),
    ("block_peer", BlockPeer),
    ("memory_limit", MemoryLimit),
    ("memory_pressure", MemoryPressure),
    ("cpu_pressure", CpuPressure),
    ("exchange_rate_limited", ExchangeRateLimited),
    ("exchange_unreachable", ExchangeUnreachable),
    ("price_shock", PriceShock),
    ("exchange_maintenance", ExchangeMaintenance),
    ("key_revoked", KeyRevoked),
    ("lock_held", LockHeld),
    ("ledger_wiped", LedgerWiped),
    ("table_corrupted", TableCorrupted),
    ("intrusion", Intrusion),
    ("scheduled", Scheduled),
    ("key_compromised", KeyCompromised),
    ("storage_unavailable", StorageUnavailable),
):
    FAULTS.add(_name, _cls)

__all__ = [
    "FAULTS",
    "BlockPeer",
    "CpuPressure",
    "DisconnectNetwork",
    "ExchangeMaintenance",
    "ExchangeRateLimited",
    "ExchangeUnreachable",
    "Fault",
    "HangProcess",
    "Intrusion",
    "KeyCompromised",
    "KeyRevoked",
    "KillContainer",
    "LedgerWiped",
    "LockHeld",
    "MemoryLimit",
    "MemoryPressure",
    "PriceShock",
    "Scheduled",
    "StopContainer",
    "StorageUnavailable",
    "TableCorrupted",
]

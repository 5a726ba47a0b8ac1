"""Faults a drill injects into the Docker lab: one module per fault family."""

from drillbook.faults._base import Fault
from drillbook.faults.container import HangProcess, KillContainer, StopContainer
from drillbook.faults.exchange import ExchangeRateLimited, ExchangeUnreachable, PriceShock
from drillbook.faults.network import BlockPeer, DisconnectNetwork
from drillbook.faults.resources import MemoryLimit

__all__ = [
    "BlockPeer",
    "DisconnectNetwork",
    "ExchangeRateLimited",
    "ExchangeUnreachable",
    "Fault",
    "HangProcess",
    "KillContainer",
    "MemoryLimit",
    "PriceShock",
    "StopContainer",
]

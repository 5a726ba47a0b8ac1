"""Exchange faults through the fake exchange's admin API: 429s, maintenance, revoked keys."""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.environments.docker import DockerLab
from drillbook.waiting import Check
from fake_exchange.client import AdminClient, AdminError

__all__ = ["ExchangeRateLimited", "admin_for"]


def admin_for(lab: DockerLab) -> AdminClient:
    """The admin client of the lab's fake exchange (on its published loopback port)."""
    return AdminClient(lab.services()["exchange"].endpoint("admin").url)


@dataclass(frozen=True)
class ExchangeRateLimited:
    """The exchange answers 429 (Binance -1003 with Retry-After, KuCoin 429000) for
    ``duration_s``: what a bot that polls too hard meets. Revert clears every exchange fault."""

    exchange: str = "both"
    duration_s: float = 8.0

    @property
    def name(self) -> str:
        return f"{self.exchange} answers 429 for {self.duration_s:g}s"

    def inject(self, lab: DockerLab) -> None:
        admin_for(lab).rate_limit(self.exchange, duration_s=self.duration_s)

    def verify_active(self, lab: DockerLab) -> Check:
        kinds = [f["kind"] for f in admin_for(lab).faults()]
        return Check("rate_limit" in kinds, f"active faults: {kinds}")

    def revert(self, lab: DockerLab) -> None:
        try:
            admin_for(lab).reset()
        except (AdminError, OSError, KeyError):
            return  # the exchange is gone with the lab: nothing left to revert

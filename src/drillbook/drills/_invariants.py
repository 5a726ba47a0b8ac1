"""Invariants of the reference stack, checked once a drill's lab has recovered."""

from __future__ import annotations

from drillbook.drills._model import Invariant
from drillbook.environments.base import Platform
from drillbook.faults.database import service_env
from drillbook.faults.exchange import ExchangeRateLimited, admin_for
from drillbook.faults.security import INTRUDER_ORDER_PREFIX
from drillbook.waiting import Check

__all__ = ["INTEGRITY", "LEDGER", "no_ban"]


def _integrity(platform: Platform) -> Check:
    rows = platform.sql("SELECT check_name, detail FROM data_integrity_check()")
    return Check(not rows, f"{len(rows)} violation(s): {list(rows)[:3]}")


#: the stack's own consistency check (fixtures/stack CONTRACT.md), on either backend
INTEGRITY: Invariant[Platform] = Invariant("data_integrity_check() is empty", _integrity)


def no_ban(fault: ExchangeRateLimited) -> Invariant[Platform]:
    """No 418 ban issued by the exchange from ``fault``'s injection on (a ban of an earlier
    test or drill is not this drill's)."""

    def check(platform: Platform) -> Check:
        bans = fault.bans_since_injection(platform.lab)
        return Check(bans == 0, f"{bans} IP ban(s) issued by the exchange during the drill")

    return Invariant("the exchange issued no 418 ban during the drill", check)


def _ledger_matches_exchange(platform: Platform) -> Check:
    """Every fill at the exchange is in the ledger once (or its order is still unresolved),
    and the ledger has no trade the exchange never filled: nothing was traded twice or lost.
    Read ledger, fills, ledger: a trade completing meanwhile is in one of the two reads."""
    env = service_env(platform.lab, "exchange")
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


#: the exchange's keys read from its container's or pod's environment, on either backend
LEDGER: Invariant[Platform] = Invariant(
    "the ledger matches the exchange's fills (no double trade)", _ledger_matches_exchange
)

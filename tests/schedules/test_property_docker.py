"""The property suite on the real lab: random fault schedules, invariants after each one.

The real backend holds every invariant, and the ledger invariants are shown able to fail; the
planted bug is in test_planted_docker.py (its own module: one lab up at a time).
"""

from __future__ import annotations

import time

import pytest

from drillbook.environments.docker import DockerLab
from drillbook.schedules import (
    ScheduleProfile,
    failure_path,
    forget_unfilled,
)
from support.schedule_property import REPORTS, Seen, lab_property

pytestmark = pytest.mark.docker


def test_real_backend_holds_every_invariant(
    real_lab: DockerLab, schedule_profile: ScheduleProfile
) -> None:
    seen: Seen = []
    started = time.monotonic()
    lab_property(real_lab, schedule_profile, seen, failure_path(REPORTS, "real-backend"))()
    assert not seen
    print(f"{schedule_profile.max_examples} schedule(s) in {time.monotonic() - started:.0f}s")


def test_the_ledger_invariants_can_fail(real_lab: DockerLab) -> None:
    """A lost execution and a position the exchange never filled are each caught."""
    from drillbook.environments.docker import DockerPlatform
    from drillbook.schedules._invariants import positions_reconcile, trades_one_to_one

    platform = DockerPlatform(real_lab)
    forget_unfilled(real_lab)
    lost = platform.sql(
        "WITH o AS (SELECT client_order_id, exchange, exchange_order_id, symbol, side, price, "
        "quantity, fee FROM trade_executions ORDER BY id LIMIT 1) "
        "DELETE FROM trade_executions t USING o WHERE t.client_order_id = o.client_order_id "
        "RETURNING t.client_order_id, t.exchange, t.exchange_order_id, t.symbol, t.side, "
        "t.price, t.quantity, t.fee"
    )[0]
    try:
        check = trades_one_to_one(real_lab)
        assert not check.ok
        # the deleted one is among the lost; the bot trades on meanwhile, so an order it has
        # filled and not yet recorded may be listed beside it (one CI run saw that)
        assert "lost (filled, not recorded): [" in check.detail
        listed = check.detail.split("lost (filled, not recorded): [", 1)[1].split("]", 1)[0]
        assert f"'{lost[0]}'" in listed.split(", "), check.detail
    finally:
        platform.sql(
            "INSERT INTO trade_executions(client_order_id, exchange, exchange_order_id, symbol, "
            "side, price, quantity, fee) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            lost,
        )
    pid = platform.sql(
        "INSERT INTO positions(symbol, side, size, entry_price, exchange) "
        "VALUES ('BTC/USDT', 'long', 0.5, 1, 'kucoin') RETURNING id"
    )[0][0]
    try:
        check = positions_reconcile(real_lab)
        assert not check.ok
        assert "kucoin BTC" in check.detail
    finally:
        platform.sql("DELETE FROM positions WHERE id = %s", (pid,))

"""The property suite on the real lab: random fault schedules, invariants after each one.

The real backend holds every invariant; the planted bug (a backend that records a trade twice
after a restart) is found and shrunk to a short schedule with a backend kill in it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, note, settings

from drillbook.environments.docker import DockerLab
from drillbook.schedules import (
    Schedule,
    ScheduleProfile,
    Verdict,
    check_invariants,
    failed,
    failure_path,
    forget_unfilled,
    load_schedule,
    run_schedule,
    save_failure,
)

pytestmark = pytest.mark.docker

REPORTS = Path(__file__).resolve().parents[2] / "reports" / "schedules"


Seen = list[tuple[Schedule, list[Verdict]]]


def _property(lab: DockerLab, profile: ScheduleProfile, seen: Seen, saved: Path):  # type: ignore[no-untyped-def]
    @settings(**profile.settings_kwargs())  # type: ignore[arg-type]
    @given(profile.strategy())
    def prop(schedule: Schedule) -> None:
        note(f"schedule: {schedule.describe()}")
        forget_unfilled(lab)  # a previous example's damage is not this one's
        verdicts = check_invariants(lab, run_schedule(lab, schedule))
        bad = failed(verdicts)
        if bad:
            seen.append((schedule, verdicts))
            save_failure(schedule, verdicts, saved)  # the last one saved is the shrunk one
            note(f"saved: {saved} (drillbook replay {saved})")
        assert not bad, "; ".join(f"{v.name}: {v.detail}" for v in bad)

    return prop


def test_real_backend_holds_every_invariant(
    real_lab: DockerLab, schedule_profile: ScheduleProfile
) -> None:
    seen: Seen = []
    started = time.monotonic()
    _property(real_lab, schedule_profile, seen, failure_path(REPORTS, "real-backend"))()
    assert not seen
    print(f"{schedule_profile.max_examples} schedule(s) in {time.monotonic() - started:.0f}s")


def test_planted_double_record_is_found_and_shrunk(
    planted_lab: DockerLab, schedule_profile: ScheduleProfile
) -> None:
    seen: Seen = []
    saved = failure_path(REPORTS, "planted-double-record")
    saved.unlink(missing_ok=True)
    with pytest.raises(AssertionError, match="no trade lost or duplicated"):
        _property(planted_lab, schedule_profile, seen, saved)()
    shrunk, verdicts = seen[-1]  # Hypothesis replays the shrunk example last
    assert len(shrunk.events) <= 2, shrunk.describe()
    assert any(e.kind == "kill" and e.target == "backend" for e in shrunk.events)
    duplicated = next(v for v in verdicts if v.name == "no trade lost or duplicated")
    assert "recorded more than once" in duplicated.detail
    assert load_schedule(saved).events == shrunk.events
    print(f"shrunk to {shrunk.describe()} after {len(seen)} failing run(s); saved {saved}")


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
        assert f"lost (filled, not recorded): ['{lost[0]}']" in check.detail
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

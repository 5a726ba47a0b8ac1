"""Properties of the fake's models, on an injected clock: rate-limit accounting against a
reference model, and conservation of assets across any orders, fills and cancels."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fake_exchange._engine import Engine, EngineError
from fake_exchange._market import MARKETS, PriceProcess
from fake_exchange._ratelimit import BinanceLimiter, BinanceLimits, KucoinLimiter, KucoinLimits

LIMITS = BinanceLimits(
    weight_per_minute=100, escalate_after=3, ban_ladder_s=(120, 240), ladder_reset_s=3600
)


class WeightMachine(RuleBasedStateMachine):
    """The limiter against a reference written from the exchange's rules, step by step."""

    def __init__(self) -> None:
        super().__init__()
        self.limiter = BinanceLimiter(LIMITS)
        self.now = 1_000_000.0
        self.window, self.used = -1, 0
        self.limited_until = 0.0
        self.sent_limited = 0
        self.banned_until = 0.0
        self.ladder = 0
        self.last_ban_end = -math.inf
        self.bans = 0

    @rule(seconds=st.floats(min_value=0, max_value=150))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @rule(weight=st.integers(min_value=1, max_value=40))
    def request(self, weight: int) -> None:
        decision = self.limiter.check("1.2.3.4", weight, self.now)
        window = int(self.now // 60)
        if window != self.window:
            self.window, self.used = window, 0
        self.used += weight
        expected = 200
        if self.now < self.banned_until:
            expected = 418
        else:
            if self.now < self.limited_until:
                self.sent_limited += 1
                if self.sent_limited >= LIMITS.escalate_after:
                    if self.now - self.last_ban_end > LIMITS.ladder_reset_s:
                        self.ladder = 0
                    duration = LIMITS.ban_ladder_s[min(self.ladder, len(LIMITS.ban_ladder_s) - 1)]
                    self.ladder += 1
                    self.bans += 1
                    self.banned_until = self.now + duration
                    self.last_ban_end = self.banned_until
                    self.limited_until, self.sent_limited = 0.0, 0
                    expected = 418
            if expected == 200 and self.used > LIMITS.weight_per_minute:
                self.limited_until = (window + 1) * 60.0
                expected = 429
        assert decision.status == expected, (decision, self.used)
        assert decision.headers["X-MBX-USED-WEIGHT-1M"] == str(self.used)
        if expected in (418, 429):
            assert decision.retry_after >= 1
        if expected == 429:
            assert decision.retry_after == max(1, math.ceil(self.limited_until - self.now))

    @invariant()
    def bans_counted(self) -> None:
        assert self.limiter.state("1.2.3.4").bans == self.bans


TestWeightAccounting = WeightMachine.TestCase
TestWeightAccounting.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


def test_windows_are_clock_aligned_minutes() -> None:
    lim = BinanceLimiter(BinanceLimits(weight_per_minute=10))
    assert lim.check("ip", 10, 59.0).status == 200
    assert lim.check("ip", 1, 59.5).status == 429  # same minute
    decision = lim.check("ip", 1, 60.0)  # a new minute at :00
    assert decision.status == 200
    assert decision.headers["X-MBX-USED-WEIGHT-1M"] == "1"


def test_kucoin_pool_window_starts_at_first_request() -> None:
    lim = KucoinLimiter(KucoinLimits(public=10, window_s=30))
    assert lim.check("public", "ip", 10, 7.0).headers["gw-ratelimit-remaining"] == "0"
    over = lim.check("public", "ip", 1, 36.9)
    assert over.status == 429
    assert over.headers["gw-ratelimit-reset"] == "100"
    assert lim.check("public", "ip", 1, 37.0).status == 200


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


orders = st.tuples(
    st.sampled_from([m.binance for m in MARKETS]),
    st.sampled_from(["BUY", "SELL"]),
    st.sampled_from(["MARKET", "LIMIT"]),
    st.integers(min_value=-5, max_value=5000),  # in steps; zero and negatives must be refused
    st.floats(min_value=0.5, max_value=1.5),  # limit price relative to the current price
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("order"), orders),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=30)),
        st.tuples(st.just("time"), st.floats(min_value=0, max_value=30)),
        st.tuples(st.just("shock"), st.floats(min_value=-50, max_value=100)),
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(actions)
def test_no_asset_is_created_or_lost(steps: list[tuple[str, object]]) -> None:
    clock = Clock()
    engine = Engine(PriceProcess(seed=7), clock)
    for asset, amount in (("USDT", "50000"), ("BTC", "1"), ("ETH", "5"), ("SOL", "50")):
        engine.fund("acct", asset, Decimal(amount))
    totals = engine.totals()
    placed: list[int] = []
    for kind, arg in steps:
        if kind == "order":
            symbol, side, type_, steps_n, rel = arg  # type: ignore[misc]
            spec = engine.markets[symbol]
            qty = spec.step * steps_n
            price = (
                spec.round_price(engine.price(spec) * Decimal(str(rel)))
                if type_ == "LIMIT"
                else None
            )
            refused = ""
            try:
                placed.append(engine.place("acct", symbol, side, type_, qty, price).id)
            except EngineError as exc:
                refused = exc.kind
            assert refused in ("", "insufficient", "filter", "bad_param")
        elif kind == "cancel" and placed:
            oid = placed[int(arg) % len(placed)]  # type: ignore[call-overload]
            order = engine.orders.get(oid)
            if order is not None:
                refused = ""
                try:
                    engine.cancel("acct", order.spec.binance, oid)
                except EngineError as exc:
                    refused = exc.kind
                assert refused in ("", "unknown_order")
        elif kind == "time":
            clock.now += float(arg)  # type: ignore[arg-type]
            engine.match_all()
        elif kind == "shock":
            engine.prices.shock(MARKETS[0], float(arg), 5.0, clock.now)  # type: ignore[arg-type]
        assert engine.totals() == totals
        for balances in engine.accounts.values():
            for bal in balances.values():
                if balances is not engine.accounts["__house__"]:
                    assert bal.free >= 0
                    assert bal.locked >= 0

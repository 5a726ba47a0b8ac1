"""Markets, a seedable deterministic price process, and an order book around the price."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

__all__ = ["MARKETS", "Level", "MarketSpec", "PriceProcess"]


@dataclass(frozen=True)
class MarketSpec:
    base: str
    quote: str
    start_price: Decimal
    tick: Decimal  # PRICE_FILTER tickSize / KuCoin priceIncrement
    step: Decimal  # LOT_SIZE stepSize / KuCoin baseIncrement
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal

    @property
    def binance(self) -> str:
        return f"{self.base}{self.quote}"

    @property
    def kucoin(self) -> str:
        return f"{self.base}-{self.quote}"

    def round_price(self, price: Decimal) -> Decimal:
        return (price / self.tick).to_integral_value(rounding=ROUND_DOWN) * self.tick

    def on_step(self, qty: Decimal) -> bool:
        return (qty / self.step) == (qty / self.step).to_integral_value()


MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec(
        "BTC",
        "USDT",
        Decimal("60000"),
        Decimal("0.01"),
        Decimal("0.00001"),
        Decimal("0.00001"),
        Decimal("9000"),
        Decimal("5"),
    ),
    MarketSpec(
        "ETH",
        "USDT",
        Decimal("3000"),
        Decimal("0.01"),
        Decimal("0.0001"),
        Decimal("0.0001"),
        Decimal("9000"),
        Decimal("5"),
    ),
    MarketSpec(
        "SOL",
        "USDT",
        Decimal("150"),
        Decimal("0.01"),
        Decimal("0.001"),
        Decimal("0.001"),
        Decimal("90000"),
        Decimal("5"),
    ),
)


@dataclass(frozen=True)
class Level:
    price: Decimal
    qty: Decimal


@dataclass
class PriceProcess:
    """A seeded random walk per market, advanced on a fixed step of the injected clock, plus
    any price shock in progress (X % over T seconds). Same seed and times, same prices."""

    seed: int
    step_s: float = 1.0
    volatility: float = 0.0005
    _state: dict[str, tuple[int, float]] = field(default_factory=dict)
    shocks: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # start, dur, pct

    def price(self, spec: MarketSpec, now: float) -> Decimal:
        tick = int(now // self.step_s)
        last_tick, value = self._state.get(spec.binance, (tick, float(spec.start_price)))
        if tick > last_tick:
            rng = random.Random(f"{self.seed}:{spec.binance}:{last_tick}")
            for _ in range(min(tick - last_tick, 10_000)):  # bounded catch-up
                value *= math.exp(rng.gauss(0.0, self.volatility))
        self._state[spec.binance] = (max(tick, last_tick), value)
        shock = self.shocks.get(spec.binance)
        if shock is not None:
            start, duration, pct = shock
            done = 1.0 if duration <= 0 else min(1.0, max(0.0, (now - start) / duration))
            value *= 1 + pct / 100 * done
        return max(spec.tick, spec.round_price(Decimal(str(value))))

    def shock(self, spec: MarketSpec, pct: float, duration_s: float, now: float) -> None:
        self.shocks[spec.binance] = (now, duration_s, pct)

    def settle_shocks(self, now: float) -> None:
        """Fold finished shocks into the walk so the price stays where the shock left it."""
        for symbol, (start, duration, pct) in list(self.shocks.items()):
            if now >= start + duration and symbol in self._state:
                tick, value = self._state[symbol]
                self._state[symbol] = (tick, value * (1 + pct / 100))
                del self.shocks[symbol]

    @staticmethod
    def book(spec: MarketSpec, mid: Decimal, depth: int = 20) -> tuple[list[Level], list[Level]]:
        """Bids and asks around ``mid``: one tick-multiple apart, growing size away from mid."""
        spread = max(spec.tick, spec.round_price(mid * Decimal("0.0001")))
        size = max(spec.min_qty * 10000, spec.step * 10)
        bids = [Level(mid - spread * (i + 1), size * (i + 1)) for i in range(depth)]
        asks = [Level(mid + spread * (i + 1), size * (i + 1)) for i in range(depth)]
        return [b for b in bids if b.price > 0], asks

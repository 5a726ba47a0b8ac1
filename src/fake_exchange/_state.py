"""Everything one fake exchange process holds: the engine, limiters, keys, faults, counters."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from fake_exchange._engine import Engine
from fake_exchange._faults import FaultBook
from fake_exchange._market import PriceProcess
from fake_exchange._ratelimit import BinanceLimiter, BinanceLimits, KucoinLimiter, KucoinLimits

__all__ = ["ApiKey", "Config", "ExchangeState"]

DEFAULT_BALANCES = (
    ("USDT", Decimal("100000")),
    ("BTC", Decimal("1")),
    ("ETH", Decimal("10")),
    ("SOL", Decimal("100")),
)


@dataclass(frozen=True)
class ApiKey:
    """An API key of an account; a rotated key names the account it replaces a key of."""

    key: str
    secret: str = field(repr=False)
    passphrase: str = field(repr=False, default="")
    account: str = ""  # the account's id; "" means the key is its own account

    @property
    def account_id(self) -> str:
        return self.account or self.key


@dataclass(frozen=True)
class Config:
    seed: int = 42
    accounts: tuple[ApiKey, ...] = (ApiKey("lab-key", "lab-secret", "lab-passphrase"),)
    balances: tuple[tuple[str, Decimal], ...] = DEFAULT_BALANCES
    binance: BinanceLimits = field(default_factory=BinanceLimits)
    kucoin: KucoinLimits = field(default_factory=KucoinLimits)
    recv_window_max_ms: int = 60_000
    history: int = 10_000
    max_body_bytes: int = 64 * 1024


class ExchangeState:
    def __init__(self, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.engine = Engine(PriceProcess(config.seed), clock, history=config.history)
        self.binance_limits = BinanceLimiter(config.binance)
        self.kucoin_limits = KucoinLimiter(config.kucoin)
        self.faults = FaultBook()
        self.keys: dict[str, ApiKey] = {}
        self.revoked: set[str] = set()
        self.requests: Counter[tuple[str, str, str, int]] = (
            Counter()
        )  # exchange, endpoint, client, status
        for key in config.accounts:
            self.add_key(key)

    def add_key(self, key: ApiKey) -> None:
        first = key.key not in self.keys and not key.account
        self.keys[key.key] = key
        self.revoked.discard(key.key)
        if first:
            for asset, amount in self.config.balances:
                self.engine.fund(key.key, asset, amount)

    def key(self, api_key: str) -> ApiKey | None:
        if api_key in self.revoked:
            return None
        return self.keys.get(api_key)

    def count(self, exchange: str, endpoint: str, client: str, status: int) -> None:
        self.requests[(exchange, endpoint, client, status)] += 1

    def bans(self) -> int:
        """IP bans issued by Binance's limiter (escalations and forced bans)."""
        return sum(s.bans for s in self.binance_limits.ips.values())

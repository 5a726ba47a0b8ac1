"""Faults the admin API injects: each with a duration, a request count, or until cleared."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "ActiveFault", "FaultBook"]

KINDS = (
    "rate_limit",  # answer 429 (Binance -1003 with Retry-After; KuCoin 429000)
    "ban",  # answer 418 (Binance) for the duration
    "latency",  # delay every answer by fixed_ms + up to jitter_ms
    "error_after_execute",  # execute the order, then answer 5xx: outcome unknown to the client
    "server_error",  # answer 5xx without executing anything
    "maintenance",  # Binance system status 1, KuCoin status "close", 503 on trading
    "revoke_key",  # the API key stops working (401 -2015 / 400003)
    "drop_connections",  # close the connection without an answer
)


@dataclass
class ActiveFault:
    id: int
    kind: str
    exchange: str  # binance | kucoin | both
    until: float | None
    remaining: int | None
    params: dict[str, Any] = field(default_factory=dict)

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "exchange": self.exchange,
            "seconds_left": None if self.until is None else round(max(0.0, self.until - now), 3),
            "requests_left": self.remaining,
            "params": {k: v for k, v in self.params.items() if k != "secret"},
        }


class FaultBook:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.faults: dict[int, ActiveFault] = {}

    def add(
        self,
        kind: str,
        exchange: str,
        now: float,
        duration_s: float | None = None,
        count: int | None = None,
        **params: Any,
    ) -> ActiveFault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; kinds: {', '.join(KINDS)}")
        if exchange not in ("binance", "kucoin", "both"):
            raise ValueError("exchange must be binance, kucoin or both")
        if duration_s is not None and duration_s <= 0:
            raise ValueError("duration_s must be positive")
        if count is not None and count <= 0:
            raise ValueError("count must be positive")
        fault = ActiveFault(
            next(self._ids),
            kind,
            exchange,
            None if duration_s is None else now + duration_s,
            count,
            params,
        )
        self.faults[fault.id] = fault
        return fault

    def active(self, now: float) -> list[ActiveFault]:
        for fid, f in list(self.faults.items()):
            if (f.until is not None and now >= f.until) or (
                f.remaining is not None and f.remaining <= 0
            ):
                del self.faults[fid]
        return list(self.faults.values())

    def take(self, kind: str, exchange: str, now: float, **match: Any) -> ActiveFault | None:
        """The first active fault of ``kind`` for ``exchange``; a counted one is used up by one."""
        for f in self.active(now):
            if (
                f.kind == kind
                and f.exchange in (exchange, "both")
                and all(f.params.get(k) == v for k, v in match.items())
            ):
                if f.remaining is not None:
                    f.remaining -= 1
                return f
        return None

    def peek(self, kind: str, exchange: str, now: float) -> ActiveFault | None:
        return next(
            (f for f in self.active(now) if f.kind == kind and f.exchange in (exchange, "both")),
            None,
        )

    def clear(self, fault_id: int) -> bool:
        return self.faults.pop(fault_id, None) is not None

    def reset(self) -> None:
        self.faults.clear()

"""Rate limits as the exchanges apply them, on an injected clock.

Binance: request weight per IP in fixed, clock-aligned one-minute windows; 429 with an integer
Retry-After when over; a client that keeps sending during a 429 is banned (418), for longer each
time (a configurable ladder); order counts per account in 10 s and 1 day windows. KuCoin: pools
of points per 30 s window that starts at the pool's first request; 429000 when spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["BinanceLimiter", "BinanceLimits", "Decision", "KucoinLimiter", "KucoinLimits"]


@dataclass(frozen=True)
class BinanceLimits:
    weight_per_minute: int = 6000
    orders_per_10s: int = 100
    orders_per_day: int = 200_000
    escalate_after: int = 5  # requests sent during an active 429 before a ban
    ban_ladder_s: tuple[float, ...] = (
        120,
        240,
        480,
        960,
        1920,
        3840,
        7680,
        15360,
        30720,
        61440,
        122880,
        259200,
    )
    ladder_reset_s: float = 3600  # a quiet hour forgets earlier bans


@dataclass(frozen=True)
class Decision:
    status: int  # 200, 429 or 418
    retry_after: int = 0
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _IpState:
    window: int = -1
    used: int = 0
    limited_until: float = 0.0
    sent_while_limited: int = 0
    banned_until: float = 0.0
    ladder: int = 0
    last_ban_end: float = -math.inf
    bans: int = 0


class BinanceLimiter:
    def __init__(self, limits: BinanceLimits) -> None:
        self.limits = limits
        self.ips: dict[str, _IpState] = {}
        self.orders: dict[str, tuple[int, int, int, int]] = {}  # account: (w10, n10, wday, nday)

    def state(self, ip: str) -> _IpState:
        return self.ips.setdefault(ip, _IpState())

    def check(self, ip: str, weight: int, now: float) -> Decision:
        s = self.state(ip)
        window = int(now // 60)
        if window != s.window:
            s.window, s.used = window, 0
        s.used += weight
        headers = {"X-MBX-USED-WEIGHT-1M": str(s.used), "X-MBX-USED-WEIGHT": str(s.used)}
        if now < s.banned_until:
            retry = math.ceil(s.banned_until - now)
            until_ms = int(s.banned_until * 1000)
            return Decision(
                418,
                retry,
                f"Way too much request weight used; IP banned until {until_ms}. "
                "Please use WebSocket Streams for live updates to avoid bans.",
                headers,
            )
        if now < s.limited_until:
            s.sent_while_limited += 1
            if s.sent_while_limited >= self.limits.escalate_after:
                return self._ban(s, now, headers)
        if s.used > self.limits.weight_per_minute:
            s.limited_until = (window + 1) * 60.0
            retry = max(1, math.ceil(s.limited_until - now))
            return Decision(
                429,
                retry,
                "Too much request weight used; current limit is "
                f"{self.limits.weight_per_minute} request weight per 1 MINUTE. Please use "
                "WebSocket Streams for live updates to avoid polling the API.",
                headers,
            )
        return Decision(200, 0, "", headers)

    def force_limited(self, ip: str, until: float) -> None:
        """A forced 429 counts like a real one: clients that ignore it escalate to a ban."""
        s = self.state(ip)
        s.limited_until = max(s.limited_until, until)

    def _ban(self, s: _IpState, now: float, headers: dict[str, str]) -> Decision:
        if now - s.last_ban_end > self.limits.ladder_reset_s:
            s.ladder = 0
        ladder = self.limits.ban_ladder_s
        duration = ladder[min(s.ladder, len(ladder) - 1)]
        s.ladder += 1
        s.bans += 1
        s.banned_until = now + duration
        s.last_ban_end = s.banned_until
        s.limited_until, s.sent_while_limited = 0.0, 0
        until_ms = int(s.banned_until * 1000)
        return Decision(
            418,
            math.ceil(duration),
            f"Way too much request weight used; IP banned until {until_ms}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            headers,
        )

    def ban(self, ip: str, duration_s: float, now: float) -> None:
        s = self.state(ip)
        s.banned_until = now + duration_s
        s.bans += 1

    def order(self, account: str, now: float) -> Decision:
        w10, n10, wday, nday = self.orders.get(account, (-1, 0, -1, 0))
        cur10, curday = int(now // 10), int(now // 86400)
        n10 = n10 + 1 if cur10 == w10 else 1
        nday = nday + 1 if curday == wday else 1
        self.orders[account] = (cur10, n10, curday, nday)
        headers = {"X-MBX-ORDER-COUNT-10S": str(n10), "X-MBX-ORDER-COUNT-1D": str(nday)}
        if n10 > self.limits.orders_per_10s:
            return Decision(
                429,
                max(1, math.ceil((cur10 + 1) * 10 - now)),
                f"Too many new orders; current limit is {self.limits.orders_per_10s} orders per 10 SECOND.",
                headers,
            )
        if nday > self.limits.orders_per_day:
            return Decision(
                429,
                max(1, math.ceil((curday + 1) * 86400 - now)),
                f"Too many new orders; current limit is {self.limits.orders_per_day} orders per 1 DAY.",
                headers,
            )
        return Decision(200, 0, "", headers)


@dataclass(frozen=True)
class KucoinLimits:
    public: int = 2000
    spot: int = 4000
    management: int = 2000
    window_s: float = 30.0


class KucoinLimiter:
    def __init__(self, limits: KucoinLimits) -> None:
        self.limits = limits
        self.pools: dict[tuple[str, str], tuple[float, int]] = {}  # (pool, who): (start, used)

    def check(self, pool: str, who: str, weight: int, now: float) -> Decision:
        limit = getattr(self.limits, pool)
        start, used = self.pools.get((pool, who), (now, 0))
        if now >= start + self.limits.window_s:
            start, used = now, 0
        used += weight
        self.pools[(pool, who)] = (start, used)
        reset_ms = max(0, int((start + self.limits.window_s - now) * 1000))
        headers = {
            "gw-ratelimit-limit": str(limit),
            "gw-ratelimit-remaining": str(max(0, limit - used)),
            "gw-ratelimit-reset": str(reset_ms),
        }
        if used > limit:
            return Decision(429, math.ceil(reset_ms / 1000), "Too Many Requests", headers)
        return Decision(200, 0, "", headers)

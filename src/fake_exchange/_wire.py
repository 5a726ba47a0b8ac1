"""What both wire layers share: JSON answers, decimals as strings, the access log, metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from fake_exchange._state import ExchangeState

__all__ = ["Reply", "connection_faults", "dec", "fmt", "json_response", "log_access"]

log = logging.getLogger("fake_exchange.access")
Reply = tuple[int, Any, dict[str, str]]


def fmt(value: Decimal) -> str:
    """Decimals as the exchanges print them: plain notation, 8 places."""
    return f"{value:.8f}"


def dec(raw: str | None) -> Decimal | None:
    """A positive-or-zero finite decimal from a parameter, or None when malformed."""
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def json_response(status: int, body: Any, headers: dict[str, str]) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers=headers,
    )


def log_access(
    exchange: str, request: web.Request, status: int, endpoint: str, elapsed_ms: float
) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info(
            json.dumps(
                {
                    "exchange": exchange,
                    "client": request.remote,
                    "method": request.method,
                    "endpoint": endpoint,
                    "status": status,
                    "ms": round(elapsed_ms, 2),
                }
            )
        )


def jitter(fixed_ms: float, jitter_ms: float) -> float:
    return (fixed_ms + random.uniform(0, jitter_ms)) / 1000


async def connection_faults(
    state: ExchangeState, exchange: str, request: web.Request, endpoint: str
) -> bool:
    """Apply the faults that act before an answer: a dropped connection (True: nothing more to
    send) or added latency."""
    now = state.clock()
    if state.faults.take("drop_connections", exchange, now):
        if request.transport is not None:
            request.transport.abort()
        state.count(exchange, endpoint, request.remote or "?", 0)
        return True
    latency = state.faults.peek("latency", exchange, now)
    if latency is not None:
        await asyncio.sleep(
            jitter(
                float(latency.params.get("fixed_ms", 0)), float(latency.params.get("jitter_ms", 0))
            )
        )
    return False

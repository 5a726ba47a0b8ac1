"""What both wire layers share: JSON answers, decimals as strings, the access log, metrics."""

from __future__ import annotations

import json
import logging
import random
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

__all__ = ["Reply", "dec", "fmt", "json_response", "log_access"]

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

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import ccxt
import pytest

from fake_exchange.client import AdminClient
from fake_exchange.server import FakeExchange


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    with FakeExchange() as ex:
        yield ex


@pytest.fixture
def admin(exchange: FakeExchange) -> AdminClient:
    return AdminClient(exchange.admin_url)


def _point(urls: dict[str, Any], base: str) -> None:
    for key, value in list(urls.items()):
        if isinstance(value, str):
            urls[key] = re.sub(r"https://[^/]+", base, value)
        elif isinstance(value, dict):
            _point(value, base)


@pytest.fixture
def binance(exchange: FakeExchange) -> ccxt.binance:
    """ccxt's own binance driver, unmodified, pointed at the fake."""
    client = ccxt.binance({"apiKey": "lab-key", "secret": "lab-secret"})
    _point(client.urls["api"], exchange.binance_url)
    return client


@pytest.fixture
def kucoin(exchange: FakeExchange) -> ccxt.kucoin:
    client = ccxt.kucoin(
        {"apiKey": "lab-key", "secret": "lab-secret", "password": "lab-passphrase"}
    )
    _point(client.urls["api"], exchange.kucoin_url)
    return client

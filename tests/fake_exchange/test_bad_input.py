"""Bad input gets the exchange's own error codes: never a 500 or a traceback."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from fake_exchange.server import FakeExchange


def call(
    url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, object]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        exc.close()
        return exc.code, json.loads(body)


def signed(base: str, params: dict[str, str], secret: str = "lab-secret") -> str:
    params = {**params, "timestamp": str(int(time.time() * 1000))}
    query = urlencode(params)
    sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{base}/api/v3/order?{query}&signature={sig}"


KEY = {"X-MBX-APIKEY": "lab-key"}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}, 400, -1121),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0"}, 400, -1102),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "-1"}, 400, -1102),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "abc"}, 400, -1100),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.000001"},
            400,
            -1013,
        ),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}, 400, -1102),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01"}, 400, -1102),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "5"}, 400, -2010),
        ({"side": "BUY", "type": "MARKET", "quantity": "1"}, 400, -1102),
    ],
)
def test_binance_order_errors(
    exchange: FakeExchange, params: dict[str, str], status: int, code: int
) -> None:
    got_status, body = call(signed(exchange.binance_url, params), "POST", headers=KEY)
    assert (got_status, body["code"]) == (status, code), body  # type: ignore[index]


def test_binance_auth_errors(exchange: FakeExchange) -> None:
    url = signed(exchange.binance_url, {"symbol": "BTCUSDT"})
    assert call(url.replace("/order", "/openOrders"))[1] == {
        "code": -2015,
        "msg": "Invalid API-key, IP, or permissions for action.",
    }
    status, _body = call(url.replace("/order", "/openOrders"), headers={"X-MBX-APIKEY": "lab-key"})
    assert status == 200
    bad = signed(exchange.binance_url, {"symbol": "BTCUSDT"}, secret="nope").replace(
        "/order", "/openOrders"
    )
    assert call(bad, headers=KEY)[1]["code"] == -1022  # type: ignore[index]
    old = f"{exchange.binance_url}/api/v3/account?timestamp=1000"
    old += "&signature=" + hmac.new(b"lab-secret", b"timestamp=1000", hashlib.sha256).hexdigest()
    assert call(old, headers=KEY)[1]["code"] == -1021  # type: ignore[index]


def test_unknown_orders(exchange: FakeExchange) -> None:
    status, body = call(
        signed(exchange.binance_url, {"symbol": "BTCUSDT", "orderId": "42"}), headers=KEY
    )
    assert (status, body["code"]) == (400, -2013)  # type: ignore[index]
    status, body = call(
        signed(exchange.binance_url, {"symbol": "BTCUSDT", "orderId": "42"}), "DELETE", headers=KEY
    )
    assert (status, body["code"]) == (400, -2011)  # type: ignore[index]


def test_oversized_and_non_form_bodies(exchange: FakeExchange) -> None:
    status, body = call(
        exchange.binance_url + "/api/v3/order", "POST", data=b"x=" + b"1" * 200_000, headers=KEY
    )
    assert status == 400
    assert body["code"] == -1104  # type: ignore[index]
    status, body = call(
        exchange.binance_url + "/api/v3/order", "POST", data=b'{"json": true}', headers=KEY
    )
    assert (status, body["code"]) == (400, -1104)  # type: ignore[index]


def test_kucoin_bad_input(exchange: FakeExchange) -> None:
    assert call(exchange.kucoin_url + "/api/v1/nope") == (
        404,
        {"code": "404000", "msg": "Not Found"},
    )
    status, body = call(exchange.kucoin_url + "/api/v1/market/orderbook/level1?symbol=NOPE-USDT")
    assert (status, body["code"]) == (400, "400100")  # type: ignore[index]
    status, body = call(exchange.kucoin_url + "/api/v1/accounts")
    assert (status, body["code"]) == (401, "400001")  # type: ignore[index]
    status, body = call(
        exchange.kucoin_url + "/api/v1/orders",
        "POST",
        data=b"not json",
        headers={"Content-Type": "application/json"},
    )
    assert (status, body["code"]) == (400, "400100")  # type: ignore[index]


def test_depth_limit_validation(exchange: FakeExchange) -> None:
    status, body = call(exchange.binance_url + "/api/v3/depth?symbol=BTCUSDT&limit=abc")
    assert (status, body["code"]) == (400, -1100)  # type: ignore[index]
    status, body = call(exchange.binance_url + "/api/v3/depth?limit=5")
    assert (status, body["code"]) == (400, -1102)  # type: ignore[index]

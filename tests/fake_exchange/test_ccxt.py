"""Unmodified ccxt against the fake: the calls a bot makes, and the errors it must map."""

from __future__ import annotations

import ccxt
import pytest

from fake_exchange.client import AdminClient, AdminError
from fake_exchange.server import FakeExchange


def test_binance_trading_flow(binance: ccxt.binance) -> None:
    markets = binance.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= set(markets)
    assert markets["BTC/USDT"]["precision"]["amount"] == 0.00001
    assert binance.fetch_ticker("BTC/USDT")["last"] > 0
    book = binance.fetch_order_book("BTC/USDT", limit=5)
    assert book["bids"][0][0] < book["asks"][0][0]
    before = binance.fetch_balance()["USDT"]["free"]
    market = binance.create_order("BTC/USDT", "market", "buy", 0.01)
    assert market["status"] == "closed"
    assert market["filled"] == 0.01
    assert binance.fetch_balance()["USDT"]["free"] == pytest.approx(before - market["cost"])
    limit = binance.create_order("BTC/USDT", "limit", "buy", 0.01, 1000)
    assert limit["status"] == "open"
    assert binance.fetch_balance()["USDT"]["used"] == pytest.approx(10.0)
    assert [o["id"] for o in binance.fetch_open_orders("BTC/USDT")] == [limit["id"]]
    assert binance.cancel_order(limit["id"], "BTC/USDT")["status"] == "canceled"
    assert binance.fetch_order(market["id"], "BTC/USDT")["status"] == "closed"
    assert binance.fetch_open_orders("BTC/USDT") == []
    assert binance.fetch_balance()["USDT"]["used"] == 0


def test_kucoin_trading_flow(kucoin: ccxt.kucoin) -> None:
    kucoin.options["fetchMarkets"] = {"types": ["spot"]}
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= set(kucoin.load_markets())
    assert kucoin.fetch_ticker("ETH/USDT")["last"] > 0
    assert kucoin.fetch_order_book("BTC/USDT")["asks"]
    assert kucoin.fetch_balance()["USDT"]["free"] == 100000
    market = kucoin.create_order("SOL/USDT", "market", "buy", 1)
    assert kucoin.fetch_order(market["id"], "SOL/USDT")["status"] == "closed"
    limit = kucoin.create_order("SOL/USDT", "limit", "buy", 1, 10)
    assert [o["id"] for o in kucoin.fetch_open_orders("SOL/USDT")] == [limit["id"]]
    kucoin.cancel_order(limit["id"], "SOL/USDT")
    assert kucoin.fetch_open_orders("SOL/USDT") == []


def test_forced_429_maps_to_ccxt_errors(
    binance: ccxt.binance, kucoin: ccxt.kucoin, admin: AdminClient
) -> None:
    admin.rate_limit("both", count=2)
    with pytest.raises(ccxt.DDoSProtection):
        binance.fetch_time()
    with pytest.raises(ccxt.RateLimitExceeded):
        kucoin.fetch_time()


def test_a_client_that_keeps_sending_during_429_is_banned(
    exchange: FakeExchange, binance: ccxt.binance, admin: AdminClient
) -> None:
    admin.rate_limit("binance", duration_s=30)
    binance.enableRateLimit = False
    for _ in range(exchange.state.config.binance.escalate_after):
        with pytest.raises(ccxt.DDoSProtection):
            binance.fetch_time()
    admin.clear(admin.faults()[0]["id"])
    with pytest.raises(ccxt.DDoSProtection) as info:
        binance.fetch_time()
    assert "418" in str(info.value) or "banned" in str(info.value)
    assert admin.stats()["bans"] == 1


def test_ban_answers_418(exchange: FakeExchange, admin: AdminClient) -> None:
    import urllib.error
    import urllib.request

    admin.ban("binance", duration_s=60)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(exchange.binance_url + "/api/v3/ping", timeout=5)
    assert info.value.code == 418
    retry = int(info.value.headers["Retry-After"])
    info.value.close()
    assert 0 < retry <= 60


def test_revoked_key_and_wrong_signature(
    binance: ccxt.binance, kucoin: ccxt.kucoin, admin: AdminClient
) -> None:
    binance.load_markets()
    admin.revoke_key("lab-key")
    with pytest.raises(ccxt.AuthenticationError):
        binance.fetch_balance()
    with pytest.raises(ccxt.AuthenticationError):
        kucoin.fetch_balance()
    admin.reset()
    binance.secret = "wrong-secret"
    with pytest.raises(ccxt.AuthenticationError):
        binance.fetch_balance()
    kucoin.secret = "wrong-secret"
    with pytest.raises(ccxt.AuthenticationError):
        kucoin.fetch_balance()


def test_a_rotated_key_trades_on_the_same_account(
    binance: ccxt.binance, admin: AdminClient
) -> None:
    """The runbook's key rotation: a new key for the same account, the old one revoked; the
    balances and fills carry over, the old key is refused."""
    binance.load_markets()
    binance.create_order("BTC/USDT", "market", "buy", 0.01)
    before = binance.fetch_balance()["BTC"]["total"]
    admin.add_key("lab-key-2", "lab-secret-2", account_of="lab-key")
    admin.revoke_key("lab-key")
    # after a session that authenticated, ccxt reads Binance's -2015 as a transient
    # DDoSProtection (its workaround for Binance), not AuthenticationError: the code is what counts
    with pytest.raises(ccxt.BaseError, match='"code":-2015'):
        binance.fetch_balance()
    binance.apiKey, binance.secret = "lab-key-2", "lab-secret-2"
    assert binance.fetch_balance()["BTC"]["total"] == before
    binance.create_order("BTC/USDT", "market", "sell", 0.01)
    assert len(admin.fills("lab-key-2")) == len(admin.fills("lab-key")) == 2
    with pytest.raises(AdminError, match="account_of: no such API key 'nobody'"):
        admin.add_key("k3", "s3", account_of="nobody")


def test_5xx_after_execution_leaves_an_order_to_reconcile(
    binance: ccxt.binance, exchange: FakeExchange, admin: AdminClient
) -> None:
    binance.load_markets()
    admin.error_after_execute("binance", count=1)
    with pytest.raises(ccxt.NetworkError):  # RequestTimeout: execution status unknown
        binance.create_order(
            "ETH/USDT", "market", "buy", 0.1, params={"newClientOrderId": "unknown-outcome-1"}
        )
    order = binance.fetch_order(None, "ETH/USDT", params={"origClientOrderId": "unknown-outcome-1"})
    assert order["status"] == "closed"  # it did execute
    assert [f["client_order_id"] for f in admin.fills("lab-key")] == ["unknown-outcome-1"]


def test_maintenance_status_on_both(
    binance: ccxt.binance, kucoin: ccxt.kucoin, admin: AdminClient
) -> None:
    assert binance.fetch_status()["status"] == "ok"
    admin.maintenance("both", duration_s=30)
    assert binance.fetch_status()["status"] == "maintenance"
    assert kucoin.fetch_status()["status"] == "maintenance"
    assert [f["kind"] for f in admin.faults()] == ["maintenance"]
    admin.reset()
    assert admin.faults() == []


def test_latency_drop_and_price_shock(exchange: FakeExchange, admin: AdminClient) -> None:
    import time
    import urllib.error
    import urllib.request

    url = exchange.binance_url + "/api/v3/ticker/price?symbol=BTCUSDT"

    def price() -> float:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return float(__import__("json").loads(resp.read())["price"])

    admin.latency("binance", fixed_ms=300, duration_s=5)
    t0 = time.monotonic()
    price()
    assert time.monotonic() - t0 >= 0.3
    admin.reset()
    admin.drop_connections("binance", count=1)
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        price()
    before = price()
    admin.price_shock("BTC/USDT", percent=-50, duration_s=0)
    assert price() == pytest.approx(before * 0.5, rel=0.01)
    assert [f["kind"] for f in admin.faults()] == []  # an instant shock is already done

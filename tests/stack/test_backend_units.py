"""The backend's own logic, without a lab: settings, risk rules, signing, metrics text."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal

import pytest
from backend import risk
from backend.config import ConfigError, load
from backend.exchanges.base import Market
from backend.exchanges.binance import sign
from backend.metrics import Metrics

BASE = {"DATABASE_URL": "postgresql://x@y/z"}


def test_defaults_follow_the_contract() -> None:
    s = load(BASE)
    assert s.flag("TRADING_ENABLED")
    assert s.flag("ALLOW_NEW_POSITIONS")
    assert not s.flag("EMERGENCY_RISK_MODE")
    assert not s.flag("SIMULATE_TRADING")
    assert s.api_rate_limit_delay_ms == 100
    assert s.max_position_size_percent == 5
    assert s.trading_allowed


@pytest.mark.parametrize(
    "flag", ["EMERGENCY_MODE", "EMERGENCY_SHUTDOWN", "GRACEFUL_SHUTDOWN", "MAINTENANCE_MODE"]
)
def test_stopping_flags_stop_trading(flag: str) -> None:
    assert not load({**BASE, flag: "true"}).trading_allowed


def test_trading_enabled_false_stops_trading() -> None:
    assert not load({**BASE, "TRADING_ENABLED": "false"}).trading_allowed


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "DATABASE_URL is not set"),
        ({**BASE, "SIMULATE_TRADING": "maybe"}, "SIMULATE_TRADING='maybe': expected true or false"),
        (
            {**BASE, "API_RATE_LIMIT_DELAY": "fast"},
            "API_RATE_LIMIT_DELAY='fast': expected a number",
        ),
        ({**BASE, "MAX_POSITION_SIZE_PERCENT": "150"}, "from 0 to 100"),
        ({**BASE, "SYMBOLS": "BTCUSDT"}, "SYMBOLS: 'BTCUSDT' is not BASE/QUOTE"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(env)


def test_secrets_are_not_in_the_settings_repr() -> None:
    s = load({**BASE, "BINANCE_API_SECRET": "very-secret", "KUCOIN_API_PASSPHRASE": "pp-secret"})
    assert "very-secret" not in repr(s)
    assert "pp-secret" not in repr(s)


def test_position_size_and_emergency_quartering() -> None:
    equity = Decimal(10_000)
    assert risk.position_notional(equity, load(BASE)) == Decimal(500)
    emergency = load({**BASE, "EMERGENCY_RISK_MODE": "true"})
    assert risk.position_notional(equity, emergency) == Decimal(125)
    one = load({**BASE, "MAX_POSITION_SIZE_PERCENT": "1"})
    assert risk.position_notional(equity, one) == Decimal(100)


def test_new_positions_keep_exposure_under_half_the_limit() -> None:
    s = load(BASE)  # limit 20 % of equity -> new positions up to 10 %
    equity = Decimal(10_000)
    assert risk.may_open(Decimal(0), equity, Decimal(500), s)
    assert risk.may_open(Decimal(500), equity, Decimal(500), s)
    assert not risk.may_open(Decimal(1000), equity, Decimal(500), s)


@pytest.mark.parametrize(
    "flag", ["ALLOW_NEW_POSITIONS", "SIGNAL_GENERATION_ENABLED", "TRADING_ENABLED"]
)
def test_flags_halt_new_positions(flag: str) -> None:
    s = load({**BASE, flag: "false"})
    assert not risk.may_open(Decimal(0), Decimal(10_000), Decimal(100), s)


def test_exposure_ratio() -> None:
    assert risk.exposure_ratio(Decimal(50), Decimal(100)) == Decimal("0.5")
    assert risk.exposure_ratio(Decimal(0), Decimal(0)) == 0
    assert risk.limit_ratio(load(BASE)) == Decimal("0.2")


def test_binance_signature_matches_the_documented_example() -> None:
    # the example from Binance's API documentation (SIGNED endpoint security)
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    query = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert sign(secret, query) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_kucoin_passphrase_v2_is_signed_with_the_secret() -> None:
    from backend.exchanges.kucoin import _b64_hmac

    expected = base64.b64encode(hmac.new(b"s", b"pp", hashlib.sha256).digest()).decode()
    assert _b64_hmac("s", "pp") == expected


def test_lot_size_rounds_down() -> None:
    m = Market("BTC/USDT", Decimal("0.00001"), Decimal("0.00001"), Decimal(5))
    assert m.round_qty(Decimal("0.0123456")) == Decimal("0.01234")


def test_metrics_text_format() -> None:
    m = Metrics()
    m.set("trading_bot_flag", 1, name="EMERGENCY_MODE")
    m.inc("trading_bot_trades_total", exchange="binance", side="buy")
    m.inc("trading_bot_trades_total", exchange="binance", side="buy")
    text = m.render()
    assert 'trading_bot_flag{name="EMERGENCY_MODE"} 1' in text
    assert "# TYPE trading_bot_trades_total counter" in text
    assert 'trading_bot_trades_total{exchange="binance",side="buy"} 2' in text
    assert "process_resident_memory_bytes" in text


def test_a_running_retry_after_refuses_at_once_without_sending() -> None:
    """A 429's Retry-After is not slept out inside the request (that stalled the whole trading
    loop, and a request signed before the wait reached Binance outside its recvWindow): the
    next call raises BackingOff at once and the exchange sees nothing."""
    import asyncio
    import time

    from aiohttp import web
    from backend.exchanges.base import BackingOff, PoliteHttp, RateLimited

    seen: list[str] = []

    async def limited(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"code": -1003}, status=429, headers={"Retry-After": "30"})

    async def scenario() -> tuple[float, str]:
        app = web.Application()
        app.router.add_get("/api/v3/ticker/price", limited)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        http = PoliteHttp("binance", f"http://127.0.0.1:{port}", 0.0, lambda _s: None)
        try:
            with pytest.raises(RateLimited):
                await http.request("GET", "/api/v3/ticker/price")
            started = time.monotonic()
            with pytest.raises(BackingOff) as refused:
                await http.request("GET", "/api/v3/ticker/price")
            return time.monotonic() - started, str(refused.value)
        finally:
            await http.close()
            await runner.cleanup()

    elapsed, message = asyncio.run(scenario())
    assert elapsed < 1.0
    assert seen == ["/api/v3/ticker/price"]  # the second call never left the bot
    assert "backing off" in message
    assert "binance GET /api/v3/ticker/price" in message

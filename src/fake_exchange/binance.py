"""Binance Spot REST v3 on its own port: weights, signatures, rate limits and bans as Binance does."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fake_exchange._engine import EngineError, Order
from fake_exchange._market import MARKETS
from fake_exchange._state import ExchangeState
from fake_exchange._wire import Reply, connection_faults, dec, fmt, json_response, log_access

__all__ = ["binance_app"]

Params = dict[str, str]
Handler = Callable[[ExchangeState, Params, str], Reply]
ERRORS = {
    "insufficient": (400, -2010),
    "filter": (400, -1013),
    "bad_symbol": (400, -1121),
    "bad_param": (400, -1102),
    "duplicate": (400, -2010),
}


@dataclass(frozen=True)
class Route:
    handler: Handler
    weight: Callable[[Params], int]
    signed: bool = False
    trading: bool = False


def _err(status: int, code: int, msg: str) -> Reply:
    return status, {"code": code, "msg": msg}, {}


def _order_json(o: Order, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "symbol": o.spec.binance,
        "orderId": o.id,
        "orderListId": -1,
        "clientOrderId": o.client_id,
        "price": fmt(o.price or Decimal(0)),
        "origQty": fmt(o.qty),
        "executedQty": fmt(o.executed),
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": fmt(o.quote_filled),
        "status": o.status,
        "timeInForce": "GTC",
        "type": o.type,
        "side": o.side,
        "workingTime": o.time_ms,
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }
    if full:
        body["transactTime"] = o.update_ms
        body["fills"] = [
            {
                "price": fmt(f.price),
                "qty": fmt(f.qty),
                "commission": "0.00000000",
                "commissionAsset": o.spec.quote if o.side == "SELL" else o.spec.base,
                "tradeId": f.trade_id,
            }
            for f in o.fills
        ]
    else:
        body.update(
            {
                "stopPrice": "0.00000000",
                "icebergQty": "0.00000000",
                "time": o.time_ms,
                "updateTime": o.update_ms,
                "isWorking": o.is_open,
            }
        )
    return body


def _engine_call(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except EngineError as exc:
        if exc.kind == "unknown_order":  # cancel says -2011 "Unknown order", query -2013
            raise _Refused(
                400, -2011 if str(exc).startswith("Unknown") else -2013, str(exc)
            ) from exc
        status, code = ERRORS.get(exc.kind, (400, -1100))
        raise _Refused(status, code, str(exc)) from exc


class _Refused(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        self.reply: Reply = _err(status, code, msg)


def _need(p: Params, name: str) -> str:
    value = p.get(name)
    if not value:
        raise _Refused(
            400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )
    return value


# -- handlers ------------------------------------------------------------------------------
def ping(s: ExchangeState, p: Params, key: str) -> Reply:
    return 200, {}, {}


def server_time(s: ExchangeState, p: Params, key: str) -> Reply:
    return 200, {"serverTime": s.engine.now_ms()}, {}


def exchange_info(s: ExchangeState, p: Params, key: str) -> Reply:
    lim = s.config.binance
    symbols = [
        {
            "symbol": m.binance,
            "status": "TRADING",
            "baseAsset": m.base,
            "quoteAsset": m.quote,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "MARKET"],
            "icebergAllowed": False,
            "ocoAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "permissions": ["SPOT"],
            "permissionSets": [["SPOT"]],
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": fmt(m.tick),
                    "maxPrice": "1000000.00000000",
                    "tickSize": fmt(m.tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": fmt(m.min_qty),
                    "maxQty": fmt(m.max_qty),
                    "stepSize": fmt(m.step),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": fmt(m.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
        }
        for m in MARKETS
    ]
    rate_limits = [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": lim.weight_per_minute,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": lim.orders_per_10s,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "DAY",
            "intervalNum": 1,
            "limit": lim.orders_per_day,
        },
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
    ]
    return (
        200,
        {
            "timezone": "UTC",
            "serverTime": s.engine.now_ms(),
            "rateLimits": rate_limits,
            "exchangeFilters": [],
            "symbols": symbols,
        },
        {},
    )


def _symbols(s: ExchangeState, p: Params) -> list[Any]:
    if "symbol" in p:
        return [_engine_call(lambda: s.engine.market(p["symbol"]))]
    return list(MARKETS)


def ticker_price(s: ExchangeState, p: Params, key: str) -> Reply:
    rows = [{"symbol": m.binance, "price": fmt(s.engine.price(m))} for m in _symbols(s, p)]
    return 200, rows[0] if "symbol" in p else rows, {}


def ticker_24hr(s: ExchangeState, p: Params, key: str) -> Reply:
    now = s.engine.now_ms()
    rows = []
    for m in _symbols(s, p):
        last = s.engine.price(m)
        bids, asks = s.engine.prices.book(m, last, depth=1)
        rows.append(
            {
                "symbol": m.binance,
                "priceChange": "0.00000000",
                "priceChangePercent": "0.000",
                "weightedAvgPrice": fmt(last),
                "prevClosePrice": fmt(last),
                "lastPrice": fmt(last),
                "lastQty": "0.00000000",
                "bidPrice": fmt(bids[0].price),
                "bidQty": fmt(bids[0].qty),
                "askPrice": fmt(asks[0].price),
                "askQty": fmt(asks[0].qty),
                "openPrice": fmt(last),
                "highPrice": fmt(last),
                "lowPrice": fmt(last),
                "volume": "0.00000000",
                "quoteVolume": "0.00000000",
                "openTime": now - 86_400_000,
                "closeTime": now,
                "firstId": 0,
                "lastId": 0,
                "count": 0,
            }
        )
    return 200, rows[0] if "symbol" in p else rows, {}


def depth(s: ExchangeState, p: Params, key: str) -> Reply:
    m = _engine_call(lambda: s.engine.market(_need(p, "symbol")))
    try:
        limit = int(p.get("limit", "100"))
    except ValueError:
        return _err(
            400,
            -1100,
            "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
        )
    if not 1 <= limit <= 5000:
        return _err(400, -1100, "Illegal characters found in parameter 'limit'.")
    bids, asks = s.engine.prices.book(m, s.engine.price(m), depth=min(limit, 50))
    return (
        200,
        {
            "lastUpdateId": s.engine.now_ms(),
            "bids": [[fmt(b.price), fmt(b.qty)] for b in bids],
            "asks": [[fmt(a.price), fmt(a.qty)] for a in asks],
        },
        {},
    )


def new_order(s: ExchangeState, p: Params, key: str) -> Reply:
    symbol, side, type_ = _need(p, "symbol"), _need(p, "side"), _need(p, "type")
    qty = dec(p.get("quantity"))
    if qty is None and p.get("quoteOrderQty") and type_.upper() == "MARKET":
        quote = dec(p["quoteOrderQty"])
        m = _engine_call(lambda: s.engine.market(symbol))
        if quote is None or quote <= 0:
            return _err(400, -1100, "Illegal characters found in parameter 'quoteOrderQty'.")
        qty = (quote / s.engine.price(m) / m.step).to_integral_value(rounding="ROUND_DOWN") * m.step
    if qty is None:
        if p.get("quantity"):
            return _err(
                400,
                -1100,
                "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
            )
        return _err(
            400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."
        )
    price = dec(p.get("price")) if p.get("price") else None
    if p.get("price") and price is None:
        return _err(400, -1100, "Illegal characters found in parameter 'price'.")
    order = _engine_call(
        lambda: s.engine.place(key, symbol, side, type_, qty, price, p.get("newClientOrderId"))
    )
    return 200, _order_json(order, full=p.get("newOrderRespType", "FULL").upper() == "FULL"), {}


def _lookup(s: ExchangeState, p: Params, key: str, cancel: bool) -> Order:
    symbol = _need(p, "symbol")
    order_id = p.get("orderId")
    if order_id is not None and not order_id.isdigit():
        raise _Refused(400, -1100, "Illegal characters found in parameter 'orderId'.")
    client = p.get("origClientOrderId")
    if order_id is None and not client:
        raise _Refused(
            400,
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )
    oid = int(order_id) if order_id else None
    fn = s.engine.cancel if cancel else s.engine.find
    order: Order = _engine_call(lambda: fn(key, symbol, oid, client))
    return order


def query_order(s: ExchangeState, p: Params, key: str) -> Reply:
    s.engine.match_all()
    return 200, _order_json(_lookup(s, p, key, cancel=False)), {}


def cancel_order(s: ExchangeState, p: Params, key: str) -> Reply:
    order = _lookup(s, p, key, cancel=True)
    body = _order_json(order)
    body["origClientOrderId"] = order.client_id
    return 200, body, {}


def open_orders(s: ExchangeState, p: Params, key: str) -> Reply:
    s.engine.match_all()
    orders = _engine_call(lambda: s.engine.open_orders(key, p.get("symbol")))
    return 200, [_order_json(o) for o in orders], {}


def account(s: ExchangeState, p: Params, key: str) -> Reply:
    s.engine.match_all()
    balances = [
        {"asset": a, "free": fmt(b.free), "locked": fmt(b.locked)}
        for a, b in sorted(s.engine.account(key).items())
    ]
    return (
        200,
        {
            "makerCommission": 0,
            "takerCommission": 0,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "canTrade": True,
            "canWithdraw": False,
            "canDeposit": False,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": s.engine.now_ms(),
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": 1,
        },
        {},
    )


def system_status(s: ExchangeState, p: Params, key: str) -> Reply:
    if s.faults.peek("maintenance", "binance", s.clock()):
        return 200, {"status": 1, "msg": "system maintenance"}, {}
    return 200, {"status": 0, "msg": "normal"}, {}


def _const(value: Any) -> Handler:
    return lambda s, p, key: (200, value, {})


def _w(n: int) -> Callable[[Params], int]:
    return lambda p: n


def _depth_weight(p: Params) -> int:
    try:
        limit = int(p.get("limit", "100"))
    except ValueError:
        return 5
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v3/ping"): Route(ping, _w(1)),
    ("GET", "/api/v3/time"): Route(server_time, _w(1)),
    ("GET", "/api/v3/exchangeInfo"): Route(exchange_info, _w(20)),
    ("GET", "/api/v3/ticker/price"): Route(ticker_price, lambda p: 2 if "symbol" in p else 4),
    ("GET", "/api/v3/ticker/24hr"): Route(ticker_24hr, lambda p: 2 if "symbol" in p else 80),
    ("GET", "/api/v3/depth"): Route(depth, _depth_weight),
    ("POST", "/api/v3/order"): Route(new_order, _w(1), signed=True, trading=True),
    ("GET", "/api/v3/order"): Route(query_order, _w(4), signed=True),
    ("DELETE", "/api/v3/order"): Route(cancel_order, _w(1), signed=True, trading=True),
    ("GET", "/api/v3/openOrders"): Route(
        open_orders, lambda p: 6 if "symbol" in p else 80, signed=True
    ),
    ("GET", "/api/v3/account"): Route(account, _w(20), signed=True),
    ("GET", "/sapi/v1/system/status"): Route(system_status, _w(1)),
    ("GET", "/sapi/v1/capital/config/getall"): Route(_const([]), _w(10), signed=True),
    ("GET", "/sapi/v1/margin/allPairs"): Route(_const([]), _w(1)),
    ("GET", "/sapi/v1/margin/isolated/allPairs"): Route(_const([]), _w(10), signed=True),
    ("GET", "/fapi/v1/exchangeInfo"): Route(_const({"symbols": []}), _w(1)),
    ("GET", "/dapi/v1/exchangeInfo"): Route(_const({"symbols": []}), _w(1)),
}


def _without_signature(raw: str) -> tuple[str, str | None]:
    parts, signature = [], None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            parts.append(part)
    return "&".join(parts), signature


def _authenticate(s: ExchangeState, request: web.Request, p: Params, query: str, body: str) -> str:
    api_key = request.headers.get("X-MBX-APIKEY", "")
    if not api_key:
        raise _Refused(401, -2015, "Invalid API-key, IP, or permissions for action.")
    if len(api_key) > 256 or not api_key.isprintable():
        raise _Refused(401, -2014, "API-key format invalid.")
    key = s.key(api_key)
    if key is None or s.faults.take("revoke_key", "binance", s.clock(), api_key=api_key):
        raise _Refused(401, -2015, "Invalid API-key, IP, or permissions for action.")
    q, sig_q = _without_signature(query)
    b, sig_b = _without_signature(body)
    signature = sig_q or sig_b
    expected = hmac.new(key.secret.encode(), (q + b).encode(), hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(signature.lower(), expected):
        raise _Refused(400, -1022, "Signature for this request is not valid.")
    ts_raw, window_raw = p.get("timestamp", ""), p.get("recvWindow", "5000")
    if not ts_raw.isdigit():
        raise _Refused(
            400,
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        )
    if not window_raw.isdigit() or int(window_raw) > s.config.recv_window_max_ms:
        raise _Refused(400, -1131, "recvWindow must be less than 60000")
    now = s.engine.now_ms()
    ts = int(ts_raw)
    if not (ts < now + 1000 and now - ts <= int(window_raw)):
        raise _Refused(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    return key.account_id


def binance_app(state: ExchangeState) -> web.Application:
    async def dispatch(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        now = state.clock()
        client = request.remote or "?"
        route = ROUTES.get((request.method, request.path))
        endpoint = request.path if route else "unknown"
        extra: dict[str, str] = {}
        if await connection_faults(state, "binance", request, endpoint):
            return web.Response(status=500)  # never sent: the connection is gone
        status, body, headers = await _answer(state, request, route, client, now)
        extra.update(headers)
        extra.setdefault("X-MBX-USED-WEIGHT-1M", str(state.binance_limits.state(client).used))
        extra.setdefault("X-MBX-USED-WEIGHT", extra["X-MBX-USED-WEIGHT-1M"])
        state.count("binance", endpoint, client, status)
        log_access("binance", request, status, endpoint, (time.perf_counter() - started) * 1000)
        return json_response(status, body, extra)

    app = web.Application(client_max_size=state.config.max_body_bytes)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


async def _answer(
    s: ExchangeState, request: web.Request, route: Route | None, client: str, now: float
) -> Reply:
    if route is None:
        return _err(404, -1000, f"Unknown path: {request.method} {request.path}")
    try:
        raw_body = (await request.read()).decode("utf-8")
    except (UnicodeDecodeError, web.HTTPRequestEntityTooLarge):
        return _err(400, -1104, "Request body is too large or not text.")
    query = request.query_string
    p: Params = dict(parse_qsl(query, keep_blank_values=True))
    if raw_body.lstrip().startswith(("{", "[")):
        return _err(400, -1104, "Not all sent parameters were read; expected a form-encoded body.")
    if raw_body:
        p.update(parse_qsl(raw_body, keep_blank_values=True))
    weight = route.weight(p)
    ban = s.faults.take("ban", "binance", now)
    if ban is not None:
        s.binance_limits.ban(client, (ban.until - now) if ban.until else 120.0, now)
    forced = s.faults.take("rate_limit", "binance", now)
    decision = s.binance_limits.check(client, weight, now)
    headers = dict(decision.headers)
    if decision.status == 200 and forced is not None:
        retry = int(max(1, (forced.until - now) if forced.until else 1) + 0.999)
        s.binance_limits.force_limited(client, now + retry)
        headers["Retry-After"] = str(retry)
        return (
            429,
            {
                "code": -1003,
                "msg": "Too much request weight used; current limit is "
                f"{s.config.binance.weight_per_minute} request weight per 1 MINUTE.",
            },
            headers,
        )
    if decision.status != 200:
        headers["Retry-After"] = str(decision.retry_after)
        return decision.status, {"code": -1003, "msg": decision.message}, headers
    if route.trading and s.faults.peek("maintenance", "binance", now):
        return (
            503,
            {
                "code": -1008,
                "msg": "Server is currently overloaded with other requests. Please try again in a few minutes.",
            },
            headers,
        )
    if s.faults.take("server_error", "binance", now):
        return (
            500,
            {"code": -1000, "msg": "An unknown error occured while processing the request."},
            headers,
        )
    try:
        key = _authenticate(s, request, p, query, raw_body) if route.signed else ""
        if request.method == "POST" and route.trading:
            order_decision = s.binance_limits.order(key, now)
            headers.update(order_decision.headers)
            if order_decision.status != 200:
                headers["Retry-After"] = str(order_decision.retry_after)
                return 429, {"code": -1015, "msg": order_decision.message}, headers
        status, body, more = route.handler(s, p, key)
    except _Refused as refused:
        status, body, more = refused.reply
    headers.update(more)
    if (
        status == 200
        and request.method == "POST"
        and s.faults.take("error_after_execute", "binance", now)
    ):
        # what Binance answers when it cannot tell whether the order executed
        return (
            503,
            {
                "code": -1007,
                "msg": "Timeout waiting for response from backend server. "
                "Send status unknown; execution status unknown.",
            },
            headers,
        )
    return status, body, headers

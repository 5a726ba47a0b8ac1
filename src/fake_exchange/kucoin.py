"""KuCoin Spot REST at the root of its own port: the envelope, KC-API signatures, pools."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from fake_exchange._engine import EngineError, Order
from fake_exchange._market import MARKETS
from fake_exchange._state import ExchangeState
from fake_exchange._wire import Reply, connection_faults, dec, fmt, json_response, log_access

__all__ = ["kucoin_app"]

Args = dict[str, Any]
Handler = Callable[[ExchangeState, Args, str, str], Reply]  # state, args, key, path tail


@dataclass(frozen=True)
class Route:
    handler: Handler
    weight: int
    pool: str  # public | spot | management
    signed: bool = False
    trading: bool = False


class _Refused(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        self.reply: Reply = (status, {"code": code, "msg": msg}, {})


def ok(data: Any) -> Reply:
    return 200, {"code": "200000", "data": data}, {}


def _call(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except EngineError as exc:
        code = {"insufficient": "200004", "bad_symbol": "400100", "unknown_order": "400100"}.get(
            exc.kind, "400100"
        )
        msg = "Balance insufficient!" if exc.kind == "insufficient" else str(exc)
        raise _Refused(400 if exc.kind != "unknown_order" else 404, code, msg) from exc


def _order_json(o: Order) -> dict[str, Any]:
    return {
        "id": str(o.id),
        "clientOid": o.client_id,
        "symbol": o.spec.kucoin,
        "opType": "DEAL",
        "type": o.type.lower(),
        "side": o.side.lower(),
        "price": fmt(o.price or Decimal(0)),
        "size": fmt(o.qty),
        "funds": "0",
        "dealFunds": fmt(o.quote_filled),
        "dealSize": fmt(o.executed),
        "fee": "0",
        "feeCurrency": o.spec.quote,
        "stp": "",
        "stop": "",
        "stopTriggered": False,
        "stopPrice": "0",
        "timeInForce": "GTC",
        "postOnly": False,
        "hidden": False,
        "iceberg": False,
        "visibleSize": "0",
        "cancelAfter": 0,
        "channel": "API",
        "remark": None,
        "tags": None,
        "isActive": o.is_open,
        "cancelExist": o.status == "CANCELED",
        "createdAt": o.time_ms,
        "tradeType": "TRADE",
    }


def timestamp(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    return ok(s.engine.now_ms())


def status(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    closed = s.faults.peek("maintenance", "kucoin", s.clock())
    return ok({"status": "close" if closed else "open", "msg": "maintenance" if closed else ""})


def symbols(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    return ok(
        [
            {
                "symbol": m.kucoin,
                "name": m.kucoin,
                "baseCurrency": m.base,
                "quoteCurrency": m.quote,
                "feeCurrency": m.quote,
                "market": "USDS",
                "baseMinSize": fmt(m.min_qty),
                "quoteMinSize": fmt(m.min_notional),
                "baseMaxSize": fmt(m.max_qty),
                "quoteMaxSize": "99999999",
                "baseIncrement": fmt(m.step),
                "quoteIncrement": fmt(m.tick),
                "priceIncrement": fmt(m.tick),
                "priceLimitRate": "0.1",
                "minFunds": fmt(m.min_notional),
                "isMarginEnabled": False,
                "enableTrading": True,
            }
            for m in MARKETS
        ]
    )


def _market(s: ExchangeState, a: Args) -> Any:
    sym = a.get("symbol")
    if not sym:
        raise _Refused(400, "400100", "symbol is required")
    return _call(lambda: s.engine.market(str(sym)))


def level1(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    m = _market(s, a)
    price = s.engine.price(m)
    bids, asks = s.engine.prices.book(m, price, depth=1)
    return ok(
        {
            "time": s.engine.now_ms(),
            "sequence": str(s.engine.now_ms()),
            "price": fmt(price),
            "size": "0.1",
            "bestBid": fmt(bids[0].price),
            "bestBidSize": fmt(bids[0].qty),
            "bestAsk": fmt(asks[0].price),
            "bestAskSize": fmt(asks[0].qty),
        }
    )


def _stats(s: ExchangeState, m: Any) -> dict[str, Any]:
    price = s.engine.price(m)
    bids, asks = s.engine.prices.book(m, price, depth=1)
    return {
        "time": s.engine.now_ms(),
        "symbol": m.kucoin,
        "symbolName": m.kucoin,
        "buy": fmt(bids[0].price),
        "sell": fmt(asks[0].price),
        "changeRate": "0",
        "changePrice": "0",
        "high": fmt(price),
        "low": fmt(price),
        "vol": "0",
        "volValue": "0",
        "last": fmt(price),
        "averagePrice": fmt(price),
        "takerFeeRate": "0.001",
        "makerFeeRate": "0.001",
        "takerCoefficient": "1",
        "makerCoefficient": "1",
    }


def stats(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    return ok(_stats(s, _market(s, a)))


def all_tickers(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    return ok({"time": s.engine.now_ms(), "ticker": [_stats(s, m) for m in MARKETS]})


def currencies(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    assets = sorted({m.base for m in MARKETS} | {"USDT"})
    return ok(
        [
            {
                "currency": c,
                "name": c,
                "fullName": c,
                "precision": 8,
                "confirms": None,
                "contractAddress": None,
                "isMarginEnabled": False,
                "isDebitEnabled": False,
                "chains": [],
            }
            for c in assets
        ]
    )


def orderbook(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    m = _market(s, a)
    bids, asks = s.engine.prices.book(m, s.engine.price(m), depth=20)
    return ok(
        {
            "time": s.engine.now_ms(),
            "sequence": str(s.engine.now_ms()),
            "bids": [[fmt(b.price), fmt(b.qty)] for b in bids],
            "asks": [[fmt(x.price), fmt(x.qty)] for x in asks],
        }
    )


def accounts(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    s.engine.match_all()
    rows = [
        {
            "id": f"{key[:6]}-{asset}",
            "currency": asset,
            "type": "trade",
            "balance": fmt(b.free + b.locked),
            "available": fmt(b.free),
            "holds": fmt(b.locked),
        }
        for asset, b in sorted(s.engine.account(key).items())
        if (not a.get("currency") or a["currency"] == asset) and a.get("type", "trade") == "trade"
    ]
    return ok(rows)


def new_order(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    for name in ("clientOid", "side", "symbol"):
        if not a.get(name):
            raise _Refused(400, "400100", f"{name} is required")
    type_ = str(a.get("type", "limit"))
    size = dec(str(a.get("size"))) if a.get("size") is not None else None
    m = _market(s, a)
    if size is None and a.get("funds") and type_ == "market":
        funds = dec(str(a["funds"]))
        if funds is None or funds <= 0:
            raise _Refused(400, "400100", "funds is invalid")
        size = (funds / s.engine.price(m) / m.step).to_integral_value(
            rounding="ROUND_DOWN"
        ) * m.step
    if size is None:
        raise _Refused(400, "400100", "size is invalid")
    price = dec(str(a["price"])) if a.get("price") is not None else None
    order = _call(
        lambda: s.engine.place(
            key, m.binance, str(a["side"]), type_, size, price, str(a["clientOid"])
        )
    )
    return ok({"orderId": str(order.id)})


def order_detail(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    s.engine.match_all()
    if not tail.isdigit():
        raise _Refused(404, "400100", "order not exist.")
    return ok(_order_json(_call(lambda: s.engine.find(key, "", int(tail)))))


def cancel(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    if not tail.isdigit():
        raise _Refused(404, "400100", "order not exist.")
    order = _call(lambda: s.engine.find(key, "", int(tail)))
    _call(lambda: s.engine.cancel(key, order.spec.binance, order.id))
    return ok({"cancelledOrderIds": [str(order.id)]})


def by_client_oid(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    s.engine.match_all()
    return ok(_order_json(_call(lambda: s.engine.find(key, "", None, tail))))


def list_orders(s: ExchangeState, a: Args, key: str, tail: str) -> Reply:
    s.engine.match_all()
    wanted = a.get("status", "done")
    sym = a.get("symbol")
    spec = _call(lambda: s.engine.market(str(sym))) if sym else None
    items = [
        _order_json(o)
        for o in s.engine.orders.values()
        if o.account == key
        and (spec is None or o.spec == spec)
        and (o.is_open == (wanted == "active"))
    ]
    return ok(
        {
            "currentPage": 1,
            "pageSize": 50,
            "totalNum": len(items),
            "totalPage": 1,
            "items": items[-50:],
        }
    )


def _const(data: Any) -> Handler:
    return lambda s, a, key, tail: ok(data)


EXACT: dict[tuple[str, str], Route] = {
    ("GET", "/api/v1/timestamp"): Route(timestamp, 3, "public"),
    ("GET", "/api/v1/status"): Route(status, 3, "public"),
    ("GET", "/api/v2/symbols"): Route(symbols, 4, "public"),
    ("GET", "/api/v1/market/orderbook/level1"): Route(level1, 2, "public"),
    ("GET", "/api/v1/market/orderbook/level2_20"): Route(orderbook, 2, "public"),
    ("GET", "/api/v1/market/orderbook/level2_100"): Route(orderbook, 4, "public"),
    ("GET", "/api/v3/market/orderbook/level2"): Route(orderbook, 3, "spot", signed=True),
    ("GET", "/api/v1/market/stats"): Route(stats, 15, "public"),
    ("GET", "/api/v1/market/allTickers"): Route(all_tickers, 15, "public"),
    ("GET", "/api/v3/currencies"): Route(currencies, 3, "public"),
    ("GET", "/api/v1/accounts"): Route(accounts, 5, "management", signed=True),
    ("POST", "/api/v1/orders"): Route(new_order, 2, "spot", signed=True, trading=True),
    ("GET", "/api/v1/orders"): Route(list_orders, 2, "spot", signed=True),
    ("GET", "/api/ua/v1/account/mode"): Route(
        _const({"selfAccountMode": "CLASSIC"}), 2, "management", signed=True
    ),
    ("GET", "/api/v3/margin/symbols"): Route(_const({"timestamp": 0, "items": []}), 3, "public"),
    ("GET", "/api/v1/isolated/symbols"): Route(_const([]), 3, "public"),
    ("GET", "/api/v1/hf/accounts/opened"): Route(_const(False), 3, "management", signed=True),
    # ccxt also lists futures when its fetchMarkets types include them: no contracts here
    ("GET", "/api/v1/contracts/active"): Route(_const([]), 3, "public"),
}
PREFIX: list[tuple[str, str, Route]] = [
    ("GET", "/api/v1/order/client-order/", Route(by_client_oid, 3, "spot", signed=True)),
    ("GET", "/api/v1/orders/", Route(order_detail, 2, "spot", signed=True)),
    ("DELETE", "/api/v1/orders/", Route(cancel, 3, "spot", signed=True, trading=True)),
]


def _route(method: str, path: str) -> tuple[Route | None, str, str]:
    route = EXACT.get((method, path))
    if route is not None:
        return route, "", path
    for m, prefix, r in PREFIX:
        if m == method and path.startswith(prefix) and len(path) > len(prefix):
            return r, unquote(path[len(prefix) :]), prefix + "{id}"
    return None, "", "unknown"


def _b64(secret: str, payload: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    ).decode()


def _authenticate(s: ExchangeState, request: web.Request, body: str) -> str:
    h = request.headers
    needed = ("KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE")
    if any(not h.get(n) for n in needed):
        raise _Refused(
            401,
            "400001",
            "Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE",
        )
    ts = h["KC-API-TIMESTAMP"]
    if not ts.isdigit() or abs(int(ts) - s.engine.now_ms()) > 5000:
        raise _Refused(401, "400002", "Invalid KC-API-TIMESTAMP.")
    key = s.key(h["KC-API-KEY"])
    if key is None or s.faults.take("revoke_key", "kucoin", s.clock(), api_key=h["KC-API-KEY"]):
        raise _Refused(401, "400003", "KC-API-KEY not exists")
    version = h.get("KC-API-KEY-VERSION", "1")
    expected_pass = _b64(key.secret, key.passphrase) if version in ("2", "3") else key.passphrase
    if not hmac.compare_digest(h["KC-API-PASSPHRASE"], expected_pass):
        raise _Refused(401, "400004", "Invalid KC-API-PASSPHRASE")
    raw_path = request.raw_path  # path and query exactly as sent
    forms = {raw_path, unquote(raw_path)}
    if not any(
        hmac.compare_digest(h["KC-API-SIGN"], _b64(key.secret, ts + request.method + p + body))
        for p in forms
    ):
        raise _Refused(401, "400005", "Invalid KC-API-SIGN.")
    return key.account_id


def kucoin_app(state: ExchangeState) -> web.Application:
    async def dispatch(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        now = state.clock()
        client = request.remote or "?"
        route, tail, endpoint = _route(request.method, request.path)
        if await connection_faults(state, "kucoin", request, endpoint):
            return web.Response(status=500)  # never sent: the connection is gone
        status_code, body, headers = await _answer(state, request, route, tail, client, now)
        state.count("kucoin", endpoint, client, status_code)
        log_access("kucoin", request, status_code, endpoint, (time.perf_counter() - started) * 1000)
        return json_response(status_code, body, headers)

    app = web.Application(client_max_size=state.config.max_body_bytes)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


async def _answer(
    s: ExchangeState, request: web.Request, route: Route | None, tail: str, client: str, now: float
) -> Reply:
    if route is None:
        return 404, {"code": "404000", "msg": "Not Found"}, {}
    try:
        raw = (await request.read()).decode("utf-8")
    except (UnicodeDecodeError, web.HTTPRequestEntityTooLarge):
        return 400, {"code": "400100", "msg": "request body too large or not text"}, {}
    args: Args = dict(parse_qsl(request.query_string, keep_blank_values=True))
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            return 400, {"code": "400100", "msg": "request body is not valid JSON"}, {}
        if not isinstance(parsed, dict):
            return 400, {"code": "400100", "msg": "request body must be a JSON object"}, {}
        args.update(parsed)
    who = request.headers.get("KC-API-KEY", client) if route.pool != "public" else client
    forced = s.faults.take("rate_limit", "kucoin", now)
    decision = s.kucoin_limits.check(route.pool, who, route.weight, now)
    headers = dict(decision.headers)
    if forced is not None or decision.status != 200:
        return 429, {"code": "429000", "msg": "Too Many Requests"}, headers
    if route.trading and s.faults.peek("maintenance", "kucoin", now):
        return 503, {"code": "503000", "msg": "Service Unavailable"}, headers
    if s.faults.take("server_error", "kucoin", now):
        return 500, {"code": "500000", "msg": "Internal Server Error"}, headers
    try:
        key = _authenticate(s, request, raw) if route.signed else ""
        status_code, body, more = route.handler(s, args, key, tail)
    except _Refused as refused:
        status_code, body, more = refused.reply
    headers.update(more)
    if (
        status_code == 200
        and request.method == "POST"
        and s.faults.take("error_after_execute", "kucoin", now)
    ):
        return 500, {"code": "500000", "msg": "Internal Server Error"}, headers
    return status_code, body, headers

"""Accounts, balances and orders: market orders fill against the book, limit orders rest.

A "house" account is every trade's counterparty, so assets move and are never created or
lost: across all accounts, the house included, each asset's total is constant.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from fake_exchange._market import MARKETS, MarketSpec, PriceProcess

__all__ = ["HOUSE", "Balance", "Engine", "EngineError", "Fill", "Order"]

HOUSE = "__house__"
ZERO = Decimal(0)


class EngineError(Exception):
    """A refusal with a kind the wire layers map to their own codes."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = (
            kind  # insufficient | filter | unknown_order | bad_symbol | bad_param | duplicate
        )
        super().__init__(message)


@dataclass
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass(frozen=True)
class Fill:
    trade_id: int
    order_id: int
    client_id: str
    account: str
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    time_ms: int


@dataclass
class Order:
    id: int
    client_id: str
    account: str
    spec: MarketSpec
    side: str  # BUY | SELL
    type: str  # MARKET | LIMIT
    qty: Decimal
    price: Decimal | None
    time_ms: int
    executed: Decimal = ZERO
    quote_filled: Decimal = ZERO
    status: str = "NEW"
    update_ms: int = 0
    fills: list[Fill] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


class Engine:
    def __init__(
        self, prices: PriceProcess, clock: Callable[[], float], history: int = 10_000
    ) -> None:
        self.prices = prices
        self.clock = clock
        self.history = history
        self.markets = {m.binance: m for m in MARKETS}
        self.accounts: dict[str, dict[str, Balance]] = {}
        self.orders: OrderedDict[int, Order] = OrderedDict()
        self.by_client: dict[tuple[str, str], int] = {}
        self.fills: deque[Fill] = deque(maxlen=history)
        self.fill_count = 0
        self._ids = itertools.count(1_000_001)
        self._trades = itertools.count(5_000_001)
        house = self.account(HOUSE)
        for asset in {m.base for m in MARKETS} | {"USDT"}:
            house[asset] = Balance(Decimal("1000000000"))

    # -- accounts -------------------------------------------------------------------------
    def account(self, key: str) -> dict[str, Balance]:
        return self.accounts.setdefault(key, {})

    def fund(self, key: str, asset: str, amount: Decimal) -> None:
        """Move ``amount`` of ``asset`` from the house to ``key`` (initial balances)."""
        self._move(HOUSE, key, asset, amount)

    def _move(self, src: str, dst: str, asset: str, amount: Decimal) -> None:
        a, b = (
            self.account(src).setdefault(asset, Balance()),
            self.account(dst).setdefault(asset, Balance()),
        )
        a.free -= amount
        b.free += amount

    def totals(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for balances in self.accounts.values():
            for asset, bal in balances.items():
                out[asset] = out.get(asset, ZERO) + bal.free + bal.locked
        return out

    # -- market data ----------------------------------------------------------------------
    def market(self, symbol: str) -> MarketSpec:
        spec = self.markets.get(symbol.replace("-", "").replace("/", "").upper())
        if spec is None:
            raise EngineError("bad_symbol", "Invalid symbol.")
        return spec

    def price(self, spec: MarketSpec) -> Decimal:
        now = self.clock()
        self.prices.settle_shocks(now)
        return self.prices.price(spec, now)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- orders ---------------------------------------------------------------------------
    def _check(self, spec: MarketSpec, qty: Decimal, price: Decimal | None) -> None:
        if qty <= 0:
            raise EngineError("bad_param", "Invalid quantity.")
        if qty < spec.min_qty or qty > spec.max_qty or not spec.on_step(qty):
            raise EngineError("filter", "Filter failure: LOT_SIZE")
        if price is not None and (price <= 0 or spec.round_price(price) != price):
            raise EngineError("filter", "Filter failure: PRICE_FILTER")
        ref = price if price is not None else self.price(spec)
        if qty * ref < spec.min_notional:
            raise EngineError("filter", "Filter failure: NOTIONAL")

    def place(
        self,
        account: str,
        symbol: str,
        side: str,
        type_: str,
        qty: Decimal,
        price: Decimal | None = None,
        client_id: str | None = None,
    ) -> Order:
        spec = self.market(symbol)
        side, type_ = side.upper(), type_.upper()
        if side not in ("BUY", "SELL") or type_ not in ("MARKET", "LIMIT"):
            raise EngineError("bad_param", f"Invalid side or type: {side} {type_}")
        if type_ == "LIMIT" and price is None:
            raise EngineError(
                "bad_param",
                "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
            )
        self._check(spec, qty, price if type_ == "LIMIT" else None)
        oid = next(self._ids)
        client_id = client_id or f"x-{oid}"
        existing = self.orders.get(self.by_client.get((account, client_id), -1))
        if existing is not None and existing.is_open:
            raise EngineError("duplicate", "Duplicate order sent.")
        order = Order(
            oid,
            client_id,
            account,
            spec,
            side,
            type_,
            qty,
            price,
            self.now_ms(),
            update_ms=self.now_ms(),
        )
        if type_ == "MARKET":
            self._market_fill(order)
        else:
            self._rest(order)
        self._remember(order)
        return order

    def _market_fill(self, order: Order) -> None:
        spec, mid = order.spec, self.price(order.spec)
        bids, asks = self.prices.book(spec, mid)
        levels = asks if order.side == "BUY" else bids
        remaining, cost, fills = order.qty, ZERO, []
        for level in levels:
            take = min(remaining, level.qty)
            fills.append((level.price, take))
            cost += level.price * take
            remaining -= take
            if remaining <= 0:
                break
        if remaining > 0:
            raise EngineError("filter", "Filter failure: not enough liquidity in the book")
        base, quote = self._balances(order)
        if order.side == "BUY" and quote.free < cost:
            raise EngineError(
                "insufficient", "Account has insufficient balance for requested action."
            )
        if order.side == "SELL" and base.free < order.qty:
            raise EngineError(
                "insufficient", "Account has insufficient balance for requested action."
            )
        for price, qty in fills:
            self._trade(order, price, qty)

    def _rest(self, order: Order) -> None:
        assert order.price is not None
        base, quote = self._balances(order)
        if order.side == "BUY":
            need = order.price * order.qty
            if quote.free < need:
                raise EngineError(
                    "insufficient", "Account has insufficient balance for requested action."
                )
            quote.free, quote.locked = quote.free - need, quote.locked + need
        else:
            if base.free < order.qty:
                raise EngineError(
                    "insufficient", "Account has insufficient balance for requested action."
                )
            base.free, base.locked = base.free - order.qty, base.locked + order.qty
        self._match(order, self.price(order.spec))

    def _match(self, order: Order, mid: Decimal) -> None:
        """A resting limit order that the price has crossed fills, whole, at its limit."""
        assert order.price is not None
        crossed = mid <= order.price if order.side == "BUY" else mid >= order.price
        if not crossed or not order.is_open:
            return
        base, quote = self._balances(order)
        qty = order.qty - order.executed
        if order.side == "BUY":
            quote.locked -= order.price * qty
            quote.free += order.price * qty
        else:
            base.locked -= qty
            base.free += qty
        self._trade(order, order.price, qty)

    def _balances(self, order: Order) -> tuple[Balance, Balance]:
        acct = self.account(order.account)
        return acct.setdefault(order.spec.base, Balance()), acct.setdefault(
            order.spec.quote, Balance()
        )

    def _trade(self, order: Order, price: Decimal, qty: Decimal) -> None:
        spec, acct = order.spec, order.account
        if order.side == "BUY":
            self._move(acct, HOUSE, spec.quote, price * qty)
            self._move(HOUSE, acct, spec.base, qty)
        else:
            self._move(acct, HOUSE, spec.base, qty)
            self._move(HOUSE, acct, spec.quote, price * qty)
        fill = Fill(
            next(self._trades),
            order.id,
            order.client_id,
            acct,
            spec.binance,
            order.side,
            price,
            qty,
            self.now_ms(),
        )
        order.fills.append(fill)
        order.executed += qty
        order.quote_filled += price * qty
        order.status = "FILLED" if order.executed >= order.qty else "PARTIALLY_FILLED"
        order.update_ms = self.now_ms()
        self.fills.append(fill)
        self.fill_count += 1

    def match_all(self) -> None:
        """Fill resting limit orders the current prices have crossed."""
        for order in list(self.orders.values()):
            if order.is_open and order.type == "LIMIT":
                self._match(order, self.price(order.spec))

    def _remember(self, order: Order) -> None:
        self.orders[order.id] = order
        self.by_client[(order.account, order.client_id)] = order.id
        while len(self.orders) > self.history:  # bounded history: evict the oldest closed order
            victim = next((o for o in self.orders.values() if not o.is_open), None)
            if victim is None:
                break
            del self.orders[victim.id]
            self.by_client.pop((victim.account, victim.client_id), None)

    def find(
        self, account: str, symbol: str, order_id: int | None = None, client_id: str | None = None
    ) -> Order:
        spec = self.market(symbol) if symbol else None
        oid = order_id if order_id is not None else self.by_client.get((account, client_id or ""))
        order = self.orders.get(oid) if oid is not None else None
        if order is None or order.account != account or (spec is not None and order.spec != spec):
            raise EngineError("unknown_order", "Order does not exist.")
        return order

    def cancel(
        self, account: str, symbol: str, order_id: int | None = None, client_id: str | None = None
    ) -> Order:
        try:
            order = self.find(account, symbol, order_id, client_id)
        except EngineError:
            raise EngineError("unknown_order", "Unknown order sent.") from None
        if not order.is_open:
            raise EngineError("unknown_order", "Unknown order sent.")
        base, quote = self._balances(order)
        rest = order.qty - order.executed
        if order.side == "BUY" and order.price is not None:
            quote.locked -= order.price * rest
            quote.free += order.price * rest
        else:
            base.locked -= rest
            base.free += rest
        order.status = "CANCELED"
        order.update_ms = self.now_ms()
        return order

    def open_orders(self, account: str, symbol: str | None = None) -> list[Order]:
        spec = self.market(symbol) if symbol else None
        return [
            o
            for o in self.orders.values()
            if o.account == account and o.is_open and (spec is None or o.spec == spec)
        ]

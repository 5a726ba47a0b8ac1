"""A TEST variant of the reference backend with a planted bug: after a restart it records the
first fill it makes twice (the second time under a client order id the exchange never saw, as a
reconciliation that re-files a fill would). Mounted only into the property suite's lab at
``/planted``; the real backend (fixtures/stack/backend) is unchanged.

"After a restart" is a second start of the same container (a killed container started again
keeps its writable layer, so the marker in /tmp survives; a rollout's new container does not).
"""

from __future__ import annotations

import sys
from pathlib import Path

from backend import __main__ as real
from backend.exchanges.base import Fill
from backend.store import OrderRow, Store

MARKER = Path("/tmp/backend-started")


def plant() -> None:
    original = Store.record_fill
    state = {"done": False}

    async def record_fill(self: Store, order: OrderRow, fill: Fill) -> bool:
        recorded = await original(self, order, fill)
        if recorded and not state["done"]:
            state["done"] = True
            again = f"{order.client_order_id}-again"
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO orders(client_order_id, exchange, symbol, side, quantity, intent, "
                    "status) VALUES ($1, $2, $3, $4, $5, $6, 'filled')",
                    again,
                    order.exchange,
                    order.symbol,
                    order.side,
                    order.quantity,
                    order.intent,
                )
                await conn.execute(
                    "INSERT INTO trade_executions(client_order_id, exchange, exchange_order_id, "
                    "symbol, side, price, quantity, fee) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    again,
                    order.exchange,
                    fill.exchange_order_id,
                    order.symbol,
                    order.side,
                    fill.price,
                    fill.quantity,
                    fill.fee,
                )
        return recorded

    Store.record_fill = record_fill  # type: ignore[method-assign]


if __name__ == "__main__":
    if MARKER.exists():
        plant()
    MARKER.touch()
    sys.exit(real.main(sys.argv[1:]))

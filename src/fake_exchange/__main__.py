"""``fake-exchange``: Binance and KuCoin Spot REST on two ports, a fault-control admin API on a third."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from fake_exchange._ratelimit import BinanceLimits, KucoinLimits
from fake_exchange._state import DEFAULT_BALANCES, ApiKey, Config
from fake_exchange.server import FakeExchange

__all__ = ["main", "parse_accounts"]


def parse_accounts(values: list[str]) -> tuple[ApiKey, ...]:
    """``KEY:SECRET[:PASSPHRASE]`` entries; a bad one raises ValueError naming it (never the secret)."""
    keys = []
    for i, raw in enumerate(v for value in values for v in value.split(",") if v):
        parts = raw.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise ValueError(f"account #{i + 1}: expected KEY:SECRET or KEY:SECRET:PASSPHRASE")
        keys.append(ApiKey(parts[0], parts[1], parts[2] if len(parts) == 3 else ""))
    return tuple(keys)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fake-exchange", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--binance-port", type=int, default=8101)
    p.add_argument("--kucoin-port", type=int, default=8102)
    p.add_argument("--admin-port", type=int, default=8100)
    p.add_argument(
        "--seed", type=int, default=42, help="price process seed (same seed, same prices)"
    )
    p.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="KEY:SECRET[:PASSPHRASE]",
        help="an API key (repeatable; also FAKE_EXCHANGE_ACCOUNTS, comma-separated)",
    )
    p.add_argument(
        "--binance-weight-limit", type=int, default=6000, help="request weight per minute"
    )
    p.add_argument("--binance-orders-per-10s", type=int, default=100)
    p.add_argument(
        "--escalate-after", type=int, default=5, help="requests during a 429 before a 418 ban"
    )
    p.add_argument(
        "--ban-ladder",
        default="120,240,480,960,1920,3840,7680,15360,30720,61440,122880,259200",
        help="ban durations in seconds, comma-separated",
    )
    p.add_argument("--kucoin-public-limit", type=int, default=2000)
    p.add_argument("--kucoin-spot-limit", type=int, default=4000)
    p.add_argument("--kucoin-management-limit", type=int, default=2000)
    p.add_argument("--history", type=int, default=10_000, help="orders and fills kept")
    p.add_argument("--log-format", choices=("json", "none"), default="json")
    return p


def config_from(args: argparse.Namespace) -> Config:
    accounts = parse_accounts([*args.account, os.environ.get("FAKE_EXCHANGE_ACCOUNTS", "")])
    ladder = tuple(float(x) for x in args.ban_ladder.split(",") if x)
    return Config(
        seed=args.seed,
        accounts=accounts or Config().accounts,
        balances=DEFAULT_BALANCES,
        binance=BinanceLimits(
            weight_per_minute=args.binance_weight_limit,
            orders_per_10s=args.binance_orders_per_10s,
            escalate_after=args.escalate_after,
            ban_ladder_s=ladder,
        ),
        kucoin=KucoinLimits(
            public=args.kucoin_public_limit,
            spot=args.kucoin_spot_limit,
            management=args.kucoin_management_limit,
        ),
        history=args.history,
    )


async def serve(ex: FakeExchange) -> None:
    await ex.start_async()
    print(
        f"fake-exchange ready: binance {ex.binance_url} kucoin {ex.kucoin_url} admin {ex.admin_url}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await ex.stop_async()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from(args)
    except ValueError as exc:
        print(f"fake-exchange: error: {exc}", file=sys.stderr)
        return 2
    if args.log_format == "json":
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    ex = FakeExchange(
        config, host=args.host, ports=(args.binance_port, args.kucoin_port, args.admin_port)
    )
    asyncio.run(serve(ex))
    return 0


if __name__ == "__main__":
    sys.exit(main())

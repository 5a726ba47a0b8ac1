"""Fake exchange throughput and latency: the server pinned to one core, the load from another.

Targets (issue 3): >= 1,500 req/s for GET /api/v3/ticker/price and >= 500 signed
POST /api/v3/order per second with the server on one core; p99 <= 20 ms at a steady 200 req/s;
memory flat over a soak of orders (order history bounded).

    python bench/exchange_throughput.py [--seconds 5] [--soak-orders 20000]

The load generator is a separate process (asyncio + aiohttp, many connections) on the other
core; every loop is bounded in count and time, and traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

PORTS = (18101, 18102, 18100)
KEY, SECRET = "bench-key", "bench-secret"


def start_server() -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "fake_exchange",
        "--binance-port",
        str(PORTS[0]),
        "--kucoin-port",
        str(PORTS[1]),
        "--admin-port",
        str(PORTS[2]),
        "--account",
        f"{KEY}:{SECRET}",
        "--binance-weight-limit",
        "100000000",
        "--binance-orders-per-10s",
        "100000000",
        "--log-format",
        "none",
        "--history",
        "2000",
    ]
    proc = subprocess.Popen(
        ["taskset", "-c", "0", *cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if "ready" not in line:
        raise RuntimeError(f"fake exchange did not start: {line}")
    return proc


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def signed_order(i: int) -> str:
    params = {
        "symbol": "SOLUSDT",
        "side": "BUY" if i % 2 else "SELL",
        "type": "MARKET",
        "quantity": "0.1",
        "newClientOrderId": f"b{os.getpid()}-{i}",
        "timestamp": str(int(time.time() * 1000)),
    }
    query = urlencode(params)
    return (
        query
        + "&signature="
        + hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    )


async def saturate(kind: str, seconds: float, concurrency: int = 64) -> tuple[int, int]:
    """As many requests as the server takes for ``seconds``: (ok, errors)."""
    base = f"http://127.0.0.1:{PORTS[0]}"
    deadline = time.monotonic() + seconds
    ok = errors = 0
    counter = iter(range(10**9))
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def worker() -> None:
            nonlocal ok, errors
            while time.monotonic() < deadline:
                if kind == "ticker":
                    req = session.get(base + "/api/v3/ticker/price?symbol=BTCUSDT")
                else:
                    req = session.post(
                        base + "/api/v3/order?" + signed_order(next(counter)),
                        headers={"X-MBX-APIKEY": KEY},
                    )
                async with req as resp:
                    await resp.read()
                    if resp.status == 200:
                        ok += 1
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, errors


async def paced(rate: float, seconds: float) -> list[float]:
    """A steady ``rate`` req/s for ``seconds``: per-request latencies in ms."""
    base = f"http://127.0.0.1:{PORTS[0]}/api/v3/ticker/price?symbol=BTCUSDT"
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            t0 = time.perf_counter()
            async with session.get(base) as resp:
                await resp.read()
            latencies.append((time.perf_counter() - t0) * 1000)

        tasks = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return latencies


async def soak(orders: int, pid: int) -> list[tuple[int, float]]:
    """``orders`` signed orders, RSS sampled every 10 % of the way."""
    base = f"http://127.0.0.1:{PORTS[0]}/api/v3/order?"
    samples = []
    sem = asyncio.Semaphore(32)
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            async with (
                sem,
                session.post(base + signed_order(i), headers={"X-MBX-APIKEY": KEY}) as resp,
            ):
                await resp.read()

        step = max(1, orders // 10)
        for chunk in range(0, orders, step):
            await asyncio.gather(*(one(i) for i in range(chunk, min(chunk + step, orders))))
            samples.append((min(chunk + step, orders), rss_mb(pid)))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--soak-orders", type=int, default=20_000, help="100000 for the full soak")
    parser.add_argument("--out", default="reports/bench")
    args = parser.parse_args()
    seconds = min(max(args.seconds, 1.0), 60.0)
    os.sched_setaffinity(0, {1})  # the load on the other core
    server = start_server()
    try:
        results = {}
        for kind in ("ticker", "order"):
            runs = []
            for _ in range(3):
                ok, errors = asyncio.run(saturate(kind, seconds))
                runs.append(ok / seconds)
                assert errors == 0, f"{errors} errors under {kind} load"
            results[kind] = statistics.median(runs)
        lat = sorted(asyncio.run(paced(200, seconds)))
        p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
        samples = asyncio.run(soak(min(args.soak_orders, 200_000), server.pid))
    finally:
        server.terminate()
        server.wait(10)
    first, last = samples[0][1], samples[-1][1]
    print(f"{'figure':<34} {'value':>10} {'target':>10}")
    rows = [
        (
            "GET ticker/price req/s (median of 3)",
            results["ticker"],
            ">= 1500",
            results["ticker"] >= 1500,
        ),
        ("signed POST order/s (median of 3)", results["order"], ">= 500", results["order"] >= 500),
        ("p50 latency at 200 req/s, ms", p50, "", True),
        ("p99 latency at 200 req/s, ms", p99, "<= 20", p99 <= 20),
        (
            f"RSS after 10% / 100% of {samples[-1][0]} orders, MB",
            last,
            f"{first:.1f} ->",
            last <= first * 1.2 + 5,
        ),
    ]
    for name, value, target, ok in rows:
        print(f"{name:<34} {value:>10.1f} {target:>10}  {'ok' if ok else 'MISSED'}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "exchange_throughput.json").write_text(
        json.dumps(
            {
                "ticker_rps": results["ticker"],
                "order_rps": results["order"],
                "p50_ms": p50,
                "p99_ms": p99,
                "rss_samples": samples,
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

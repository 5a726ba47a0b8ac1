"""The bot against the fake exchange, for real: it trades, backs off on 429 without ever being
banned, reconciles orders whose outcome was unknown, closes positions on demand, honours the
runbook's flags, and survives being killed at random points with every trade recorded once."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from drillbook.environments.docker import DockerLab
from drillbook.waiting import Check, Wait
from fake_exchange.client import AdminClient
from support.http import http

pytestmark = pytest.mark.docker


@pytest.fixture
def admin(stack_lab: DockerLab) -> Iterator[AdminClient]:
    client = AdminClient(stack_lab.services()["exchange"].endpoint("admin").url)
    client.reset()
    yield client
    client.reset()


def sql(lab: DockerLab, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(lab.services()["postgres"].url) as conn:
        return list(conn.execute(query).fetchall())


def until(what: str, check: Callable[[], Check], timeout_s: float = 30) -> None:
    Wait(timeout_s=timeout_s, poll_s=0.2).until(check, what)


def trades(lab: DockerLab) -> int:
    return int(sql(lab, "SELECT count(*) FROM trade_executions")[0][0])  # type: ignore[call-overload]


def keys(lab: DockerLab) -> list[str]:
    env = dict(
        e.split("=", 1) for e in lab.container("exchange").attrs["Config"]["Env"] if "=" in e
    )
    return [env["BINANCE_API_KEY"], env["KUCOIN_API_KEY"]]


def assert_db_matches_exchange(lab: DockerLab, admin: AdminClient) -> None:
    """With the backend stopped: every order the exchange filled is recorded exactly once."""
    backend = lab.container("backend")
    backend.stop(timeout=15)  # SIGTERM: in-flight work finishes and is recorded first
    try:
        filled = {f["client_order_id"] for key in keys(lab) for f in admin.fills(key)}
        rows = sql(
            lab, "SELECT client_order_id FROM trade_executions WHERE exchange <> 'simulator'"
        )
        recorded = [r[0] for r in rows]
        assert len(recorded) == len(set(recorded)), "a trade was recorded twice"
        unresolved = sql(
            lab, "SELECT client_order_id FROM orders WHERE status IN ('pending', 'unknown')"
        )
        assert set(recorded) | {r[0] for r in unresolved} >= filled, (
            "a fill is missing from the database"
        )
        assert set(recorded) <= filled, "the database has a trade the exchange never filled"
        assert sql(lab, "SELECT * FROM data_integrity_check()") == []
    finally:
        backend.start()
        until(
            "backend healthy again",
            lambda: Check(
                http(lab.services()["backend"].endpoint("health").url + "/health")[0] == 200
            ),
        )


def metric(lab: DockerLab, line_start: str) -> float:
    text = http(lab.services()["backend"].endpoint("health").url + "/metrics")[1]
    for line in str(text).splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_bot_trades_and_records_every_fill_once(
    stack_lab: DockerLab, admin: AdminClient
) -> None:
    start = trades(stack_lab)
    until("trades to flow", lambda: Check(trades(stack_lab) >= start + 6, str(trades(stack_lab))))
    assert_db_matches_exchange(stack_lab, admin)


def test_429_is_honoured_and_never_becomes_a_ban(stack_lab: DockerLab, admin: AdminClient) -> None:
    admin.rate_limit("binance", duration_s=4)
    time.sleep(6)
    stats = admin.stats()
    assert stats["responses"].get("binance:429", 0) >= 1
    assert stats["bans"] == 0
    assert "binance:418" not in stats["responses"]
    assert metric(stack_lab, 'trading_bot_exchange_rate_limited_total{exchange="binance"}') >= 1
    assert metric(stack_lab, "trading_bot_exchange_banned_total") == 0
    before = trades(stack_lab)
    until("trading to resume", lambda: Check(trades(stack_lab) > before))


def test_unknown_outcome_is_reconciled_not_duplicated(
    stack_lab: DockerLab, admin: AdminClient
) -> None:
    admin.error_after_execute("both", count=2)
    until("the 5xx answers to be used", lambda: Check(not admin.faults(), str(admin.faults())))
    until(
        "no order left unresolved",
        lambda: Check(
            not sql(stack_lab, "SELECT 1 FROM orders WHERE status IN ('pending', 'unknown')")
        ),
    )
    reconciled = sql(
        stack_lab, "SELECT count(*) FROM orders WHERE status = 'filled' AND error IS NOT NULL"
    )
    assert reconciled[0][0] >= 1  # an order answered 5xx was found filled and recorded
    assert_db_matches_exchange(stack_lab, admin)


def test_emergency_close_closes_every_open_position(stack_lab: DockerLab) -> None:
    until(
        "a position to be open",
        lambda: Check(bool(sql(stack_lab, "SELECT 1 FROM positions WHERE status = 'open'"))),
    )
    api = stack_lab.services()["backend"].endpoint("api").url
    status, answer = http(
        api + "/api/risk/emergency-close",
        "POST",
        json.dumps({"reason": "high_risk_exposure"}).encode(),
    )
    assert status == 200
    assert answer["closed"], answer
    assert answer["failed"] == []
    assert sql(stack_lab, "SELECT * FROM data_integrity_check()") == []
    audit = sql(
        stack_lab,
        "SELECT detail FROM audit_logs WHERE action = 'emergency_close' ORDER BY id DESC LIMIT 1",
    )
    assert audit[0][0]["reason"] == "high_risk_exposure"  # type: ignore[index]


def test_allow_new_positions_false_halts_new_positions(stack_lab: DockerLab) -> None:
    stack_lab.recreate("backend", env={"ALLOW_NEW_POSITIONS": "false"})
    try:
        until(
            "existing positions to close",
            lambda: Check(not sql(stack_lab, "SELECT 1 FROM positions WHERE status = 'open'")),
        )
        opened = sql(stack_lab, "SELECT count(*) FROM positions")[0][0]
        time.sleep(3)
        assert sql(stack_lab, "SELECT count(*) FROM positions")[0][0] == opened
    finally:
        stack_lab.recreate("backend", env={"ALLOW_NEW_POSITIONS": None})


def test_failover_to_kucoin_and_simulation(stack_lab: DockerLab, admin: AdminClient) -> None:
    # positions held on Binance could not be closed with Binance off: flatten first
    stack_lab.recreate("backend", env={"ALLOW_NEW_POSITIONS": "false"})
    until(
        "positions to close",
        lambda: Check(not sql(stack_lab, "SELECT 1 FROM positions WHERE status = 'open'")),
    )
    stack_lab.recreate("backend", env={"ALLOW_NEW_POSITIONS": None, "BINANCE_API_ENABLED": "false"})
    try:
        last = sql(stack_lab, "SELECT coalesce(max(id), 0) FROM trade_executions")[0][0]
        until(
            "a trade on kucoin",
            lambda: Check(
                bool(
                    sql(
                        stack_lab,
                        f"SELECT 1 FROM trade_executions WHERE id > {last} AND exchange = 'kucoin'",
                    )
                )
            ),
        )
        assert not sql(
            stack_lab,
            f"SELECT 1 FROM orders o JOIN trade_executions t USING (client_order_id) WHERE t.id > {last} AND o.intent = 'open' AND t.exchange = 'binance'",
        )
        stack_lab.recreate("backend", env={"BINANCE_API_ENABLED": None, "SIMULATE_TRADING": "true"})
        fills = admin.stats()["fills"]
        last = sql(stack_lab, "SELECT coalesce(max(id), 0) FROM trade_executions")[0][0]
        until(
            "a simulated trade",
            lambda: Check(
                bool(
                    sql(
                        stack_lab,
                        f"SELECT 1 FROM trade_executions t JOIN orders o USING (client_order_id) WHERE t.id > {last} AND t.exchange = 'simulator' AND o.intent = 'open'",
                    )
                )
            ),
        )
        opened_on_exchange = sql(
            stack_lab,
            f"SELECT count(*) FROM trade_executions t JOIN orders o USING (client_order_id) WHERE t.id > {last} AND t.exchange <> 'simulator' AND o.intent = 'open'",
        )
        assert opened_on_exchange[0][0] == 0
        assert admin.stats()["fills"] - fills <= 3  # at most closes of positions opened before
    finally:
        stack_lab.recreate("backend", env={"BINANCE_API_ENABLED": None, "SIMULATE_TRADING": None})


def test_crash_safety_under_random_kills(stack_lab: DockerLab, admin: AdminClient) -> None:
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    health = stack_lab.services()["backend"].endpoint("health").url + "/health"
    for _ in range(4):  # bounded: four kills at random points while it trades
        time.sleep(rng.uniform(0.2, 1.5))
        container = stack_lab.container("backend")
        container.kill()
        container.start()
        until(
            f"backend back after a kill (seed {seed})",
            lambda: Check(http(health)[0] == 200),
            timeout_s=60,
        )
    until(
        "no order left unresolved",
        lambda: Check(
            not sql(stack_lab, "SELECT 1 FROM orders WHERE status IN ('pending', 'unknown')")
        ),
    )
    assert_db_matches_exchange(stack_lab, admin)


def test_trade_events_reach_rabbitmq_and_prices_reach_redis(stack_lab: DockerLab) -> None:
    import pika
    import redis

    conn = pika.BlockingConnection(pika.URLParameters(stack_lab.services()["rabbitmq"].url))
    try:
        channel = conn.channel()
        channel.exchange_declare("trading.events", exchange_type="topic", durable=True)
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, "trading.events", routing_key="trade.executed")
        events = []
        deadline = time.monotonic() + 20
        while not events and time.monotonic() < deadline:
            method, _props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                time.sleep(0.1)
                continue
            events.append(json.loads(body))
    finally:
        conn.close()
    assert events, "no trade.executed event within 20 s"
    assert {"client_order_id", "exchange", "symbol", "price"} <= set(events[0])
    cache = redis.Redis.from_url(stack_lab.services()["redis"].url)
    try:
        assert float(cache.get("market:BTC/USDT") or 0) > 0
    finally:
        cache.close()


def test_lab_status_shows_the_bot_trading(stack_lab: DockerLab) -> None:
    import subprocess
    import sys

    from support.labtools import cli_env

    def count() -> Check:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "drillbook",
                "lab",
                "status",
                "--name",
                stack_lab.name,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=cli_env(),
            check=False,
        )
        data = json.loads(out.stdout)
        return Check(
            bool(data["healthy"]) and (data["trade_executions"] or 0) > 0, out.stdout[-200:]
        )

    until("lab status to show trades", count)


def test_api_rate_limit_delay_spaces_requests(stack_lab: DockerLab, admin: AdminClient) -> None:
    """The runbook's rate-limit remediation: API_RATE_LIMIT_DELAY=1000 -> one request a second."""
    stack_lab.recreate("backend", env={"API_RATE_LIMIT_DELAY": "1000"})
    try:

        def binance_ok() -> int:
            return int(admin.stats()["responses"].get("binance:200", 0))

        time.sleep(2)
        before = binance_ok()
        time.sleep(5)
        sent = binance_ok() - before
        assert 1 <= sent <= 7, f"{sent} requests to Binance in 5 s with a 1000 ms delay"
    finally:
        stack_lab.recreate("backend", env={"API_RATE_LIMIT_DELAY": None})

"""One look at a service through its own protocol: SELECT 1, PING, an AMQP handshake, HTTP."""

from __future__ import annotations

import logging
import socket
import urllib.error
import urllib.request

from drillbook.environments._spec import HealthCheck
from drillbook.waiting import Check

__all__ = ["look"]

# pika logs every refused connection at ERROR; a health check expects refusals while starting
logging.getLogger("pika").setLevel(logging.CRITICAL)


def look(check: HealthCheck, url: str, host: str, port: int, timeout_s: float = 2.0) -> Check:
    """Return a :class:`Check` for one attempt; never raises for an unhealthy service."""
    try:
        if check.kind == "postgres":
            return _postgres(url, timeout_s)
        if check.kind == "redis":
            return _redis(host, port, timeout_s)
        if check.kind == "amqp":
            return _amqp(url, timeout_s)
        if check.kind == "prometheus":
            return _prometheus(f"http://{host}:{port}", timeout_s)
        if check.kind == "http":
            return _http(f"http://{host}:{port}{check.path}", timeout_s)
        return _tcp(host, port, timeout_s)
    except Exception as exc:  # any failure to talk is an observation, not a crash
        return Check(
            False,
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
        )


def _postgres(url: str, timeout_s: float) -> Check:
    import psycopg

    with psycopg.connect(url, connect_timeout=max(1, int(timeout_s))) as conn:
        value = conn.execute("SELECT 1").fetchone()
    return Check(value == (1,), f"SELECT 1 -> {value}")


def _redis(host: str, port: int, timeout_s: float) -> Check:
    import redis

    client = redis.Redis(
        host=host, port=port, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
    )
    try:
        ok = bool(client.ping())
    finally:
        client.close()
    return Check(ok, "PING -> PONG" if ok else "PING failed")


def _amqp(url: str, timeout_s: float) -> Check:
    import pika

    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.socket_timeout = timeout_s
    params.blocked_connection_timeout = timeout_s
    conn = pika.BlockingConnection(params)
    try:
        ok = conn.is_open
    finally:
        conn.close()
    return Check(ok, "AMQP connection opened")


def _http(url: str, timeout_s: float) -> Check:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            status = int(resp.status)
    except urllib.error.HTTPError as exc:
        return Check(False, f"GET {url} -> {exc.code}")
    return Check(200 <= status < 300, f"GET {url} -> {status}")


def _prometheus(base: str, timeout_s: float) -> Check:
    """Ready and every target scraped at least once: alerts can be evaluated on real data."""
    import json

    ready = _http(f"{base}/-/ready", timeout_s)
    if not ready.ok:
        return ready
    with urllib.request.urlopen(f"{base}/api/v1/targets?state=active", timeout=timeout_s) as resp:
        targets = json.load(resp)["data"]["activeTargets"]
    waiting = [t["scrapePool"] for t in targets if t.get("health") == "unknown"]
    if not targets or waiting:
        return Check(False, f"targets not scraped yet: {', '.join(waiting) or 'none discovered'}")
    return Check(True, f"{len(targets)} targets scraped")


def _tcp(host: str, port: int, timeout_s: float) -> Check:
    with socket.create_connection((host, port), timeout=timeout_s):
        return Check(True, f"TCP {host}:{port} open")

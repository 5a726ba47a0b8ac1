"""Security faults: the traces of an intrusion (Suspected Breach) and a leaked exchange key
in an intruder's hands (API Key Compromise)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from drillbook.environments.docker import DockerLab
from drillbook.errors import LabError
from drillbook.waiting import Check

__all__ = ["INTRUDER", "INTRUDER_ORDER_PREFIX", "Intrusion", "KeyCompromised", "binance_signed"]

#: client order ids of the intruder's trades: the bot never uses it, so the ledger check can
#: tell the intruder's fills (history at the exchange, never undone) from lost trades
INTRUDER_ORDER_PREFIX = "intruder-"

#: the actor the planted audit rows carry: the investigation must find it, revert removes it
INTRUDER = "unknown:203.0.113.66"  # TEST-NET-3: an address that can never be a real client
_MARK = "drillbook_fault"


@dataclass(frozen=True)
class Intrusion:
    """An intruder's traces in ``audit_logs``: ``failed_logins`` refused logins, then a login
    and a bulk read of ``users`` and ``trade_executions`` (what the runbook's investigation looks
    for: unauthorized access, data exfiltration). Nothing is really exfiltrated: the fault only
    writes audit rows, each marked so revert deletes exactly those."""

    failed_logins: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.failed_logins <= 1000:
            raise ValueError(f"Intrusion failed_logins={self.failed_logins}: expected 1 to 1000")

    @property
    def name(self) -> str:
        return f"intrusion by {INTRUDER} ({self.failed_logins} failed logins, bulk reads)"

    def _sql(
        self, lab: DockerLab, query: str, params: tuple[object, ...] = ()
    ) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
            cur = conn.execute(query, params)
            return list(cur.fetchall()) if cur.description else []

    def inject(self, lab: DockerLab) -> None:
        detail = json.dumps({"ip": INTRUDER.split(":", 1)[1], _MARK: True})
        rows = [("login_failed",)] * self.failed_logins + [
            ("login",),
            ("export:users",),
            ("export:trade_executions",),
        ]
        import psycopg

        url = lab.services()["postgres"].url
        with psycopg.connect(url, connect_timeout=5) as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit_logs (actor, action, detail) VALUES (%s, %s, %s::jsonb)",
                [(INTRUDER, action, detail) for (action,) in rows],
            )

    def verify_active(self, lab: DockerLab) -> Check:
        rows = self._sql(
            lab,
            "SELECT count(*) FROM audit_logs WHERE actor = %s AND detail ? %s",
            (INTRUDER, _MARK),
        )
        count = int(rows[0][0])
        return Check(count > 0, f"{count} audit row(s) by {INTRUDER}")

    def revert(self, lab: DockerLab) -> None:
        self._sql(
            lab,
            "DELETE FROM audit_logs WHERE actor = %s AND detail ? %s",
            (INTRUDER, _MARK),
        )


def binance_signed(
    base_url: str,
    api_key: str,
    secret: str,
    method: str,
    path: str,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """A signed Binance Spot request (HMAC-SHA256 of the query, ``X-MBX-APIKEY``) to the lab's
    fake exchange on loopback; returns the status and the decoded body, errors included."""
    query = urllib.parse.urlencode({**(params or {}), "timestamp": str(int(time.time() * 1000))})
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{base_url}{path}?{query}&signature={signature}",
        method=method,
        headers={"X-MBX-APIKEY": api_key},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:  # the lab's loopback port
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, body.decode(errors="replace")[:200]


@dataclass(frozen=True)
class KeyCompromised:
    """The backend's Binance key and secret leaked: an intruder trades with them. A bounded
    loop places a small market buy every ``interval_s`` on the bot's account, with client ids
    starting ``intruder-``, until the exchange refuses the key, ``max_orders`` are placed or
    ``duration_s`` has passed. Revert stops the loop; the trades stay in the account's history,
    as they would at a real exchange (the drill reports them)."""

    interval_s: float = 0.5
    max_orders: int = 60
    duration_s: float = 90.0
    _run: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.1 <= self.interval_s <= 10:
            raise ValueError(f"KeyCompromised interval_s={self.interval_s}: expected 0.1 to 10")
        if not 1 <= self.max_orders <= 500:
            raise ValueError(f"KeyCompromised max_orders={self.max_orders}: expected 1 to 500")
        if not 1 <= self.duration_s <= 600:
            raise ValueError(f"KeyCompromised duration_s={self.duration_s}: expected 1 to 600")

    @property
    def name(self) -> str:
        return f"the Binance API key leaked: an intruder trades with it (<= {self.max_orders})"

    @property
    def placed(self) -> list[str]:
        """Client ids of the intruder's orders the exchange accepted, this injection."""
        return list(self._run.get("placed", []))

    def _order(self, url: str, key: str, secret: str) -> tuple[int, Any, str]:
        client_id = f"{INTRUDER_ORDER_PREFIX}{int(time.time() * 1000) % 10**9}-{len(self.placed)}"
        status, body = binance_signed(
            url,
            key,
            secret,
            "POST",
            "/api/v3/order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quoteOrderQty": "15",
                "newClientOrderId": client_id,
            },
        )
        return status, body, client_id

    def inject(self, lab: DockerLab) -> None:
        from drillbook.faults.exchange import exchange_credentials

        creds = exchange_credentials(lab, "binance")
        key, secret = creds["BINANCE_API_KEY"], creds["BINANCE_API_SECRET"]
        url = lab.services()["exchange"].endpoint("binance").url
        self.revert(lab)
        placed: list[str] = []
        stop = threading.Event()
        self._run.update(placed=placed, stop=stop, key=key)
        status, body, client_id = self._order(url, key, secret)
        if status != 200:
            raise LabError(f"the intruder's first order was refused: {status} {body}")
        placed.append(client_id)
        deadline = time.monotonic() + self.duration_s

        def trade() -> None:
            while not stop.wait(self.interval_s):
                if len(placed) >= self.max_orders or time.monotonic() > deadline:
                    return
                try:
                    status, _, client_id = self._order(url, key, secret)
                except OSError:
                    continue  # the exchange restarting: the intruder tries again
                if status in (401, 403):
                    return  # the key is refused: the leak is closed
                if status == 200:
                    placed.append(client_id)

        thread = threading.Thread(target=trade, name="drillbook-intruder", daemon=True)
        self._run["thread"] = thread
        thread.start()

    def verify_active(self, lab: DockerLab) -> Check:
        from drillbook.faults.exchange import admin_for

        key = self._run.get("key")
        if not key:
            return Check(False, "not injected")
        mine = set(self.placed)
        fills = [f for f in admin_for(lab).fills(key) if f["client_order_id"] in mine]
        return Check(bool(fills), f"{len(fills)} fill(s) of the intruder's orders")

    def revert(self, lab: DockerLab) -> None:
        stop, thread = self._run.get("stop"), self._run.get("thread")
        if stop is not None:
            stop.set()
        if thread is not None:
            thread.join(timeout=10)
        self._run.pop("thread", None)

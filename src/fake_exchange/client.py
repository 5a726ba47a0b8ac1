"""A stdlib client for the admin API, for drills and tests (no aiohttp needed)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["AdminClient", "AdminError"]


class AdminError(Exception):
    """The admin API refused a request; the message is its answer."""


class AdminClient:
    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(
                req, timeout=self.timeout_s
            ) as resp:  # the lab's own admin port
                raw = resp.read().decode()
        except urllib.error.HTTPError as exc:
            raise AdminError(
                f"{method} {path}: HTTP {exc.code}: {exc.read().decode()[:300]}"
            ) from exc
        return json.loads(raw) if raw.strip().startswith(("{", "[")) else raw

    def _fault(
        self, kind: str, exchange: str, duration_s: float | None, count: int | None, **params: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"exchange": exchange, **params}
        if duration_s is not None:
            body["duration_s"] = duration_s
        if count is not None:
            body["count"] = count
        result: dict[str, Any] = self._call("POST", f"/admin/faults/{kind}", body)
        return result

    def rate_limit(
        self, exchange: str = "both", *, duration_s: float | None = None, count: int | None = None
    ) -> dict[str, Any]:
        """Answer 429 for ``duration_s`` seconds or the next ``count`` requests."""
        return self._fault("rate_limit", exchange, duration_s, count)

    def ban(self, exchange: str = "binance", *, duration_s: float = 120) -> dict[str, Any]:
        return self._fault("ban", exchange, duration_s, 1)

    def latency(
        self,
        exchange: str = "both",
        *,
        fixed_ms: float = 0,
        jitter_ms: float = 0,
        duration_s: float | None = None,
    ) -> dict[str, Any]:
        return self._fault(
            "latency", exchange, duration_s, None, fixed_ms=fixed_ms, jitter_ms=jitter_ms
        )

    def error_after_execute(self, exchange: str = "both", *, count: int = 1) -> dict[str, Any]:
        """The next ``count`` orders execute but are answered with a 5xx."""
        return self._fault("error_after_execute", exchange, None, count)

    def server_error(
        self, exchange: str = "both", *, duration_s: float | None = None, count: int | None = None
    ) -> dict[str, Any]:
        return self._fault("server_error", exchange, duration_s, count)

    def maintenance(
        self, exchange: str = "both", *, duration_s: float | None = None
    ) -> dict[str, Any]:
        return self._fault("maintenance", exchange, duration_s, None)

    def revoke_key(
        self, api_key: str, exchange: str = "both", *, duration_s: float | None = None
    ) -> dict[str, Any]:
        return self._fault("revoke_key", exchange, duration_s, None, api_key=api_key)

    def drop_connections(
        self, exchange: str = "both", *, duration_s: float | None = None, count: int | None = None
    ) -> dict[str, Any]:
        return self._fault("drop_connections", exchange, duration_s, count)

    def price_shock(self, symbol: str, percent: float, duration_s: float = 0) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            "/admin/faults/price_shock",
            {"symbol": symbol, "percent": percent, "duration_s": duration_s},
        )
        return result

    def add_key(
        self, api_key: str, secret: str, passphrase: str = "", *, account_of: str | None = None
    ) -> None:
        """Register a key; with ``account_of`` (an existing key) it opens the same account, as
        a key rotated at the exchange does."""
        body = {"api_key": api_key, "secret": secret, "passphrase": passphrase}
        if account_of:
            body["account_of"] = account_of
        self._call("POST", "/admin/keys", body)

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/admin/faults")
        return result

    def clear(self, fault_id: int) -> None:
        self._call("DELETE", f"/admin/faults/{fault_id}")

    def reset(self) -> None:
        self._call("POST", "/admin/reset")

    def fills(self, api_key: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            "GET", "/admin/fills" + (f"?api_key={api_key}" if api_key else "")
        )
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/admin/stats")
        return result

    def balances(self, api_key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/admin/balances?api_key={api_key}")
        return result

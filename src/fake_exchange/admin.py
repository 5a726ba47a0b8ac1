"""The admin port: faults, resets, reads for drills, and /metrics in Prometheus text format."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fake_exchange._faults import KINDS
from fake_exchange._state import ApiKey, ExchangeState

__all__ = ["admin_app", "render_metrics"]


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body, default=str), content_type="application/json"
    )


def render_metrics(s: ExchangeState) -> str:
    lines = [
        "# HELP fake_exchange_requests_total Requests answered, by exchange, endpoint, client and status.",
        "# TYPE fake_exchange_requests_total counter",
    ]
    for (ex, endpoint, client, status), n in sorted(s.requests.items()):
        lines.append(
            f'fake_exchange_requests_total{{exchange="{ex}",endpoint="{endpoint}",client="{client}",status="{status}"}} {n}'
        )
    for code, name in ((429, "rate_limited"), (418, "banned")):
        lines += [
            f"# HELP fake_exchange_{name}_total Answers with HTTP {code}.",
            f"# TYPE fake_exchange_{name}_total counter",
        ]
        totals: dict[tuple[str, str, str], int] = {}
        for (ex, endpoint, client, status), n in s.requests.items():
            if status == code:
                totals[(ex, endpoint, client)] = totals.get((ex, endpoint, client), 0) + n
        for (ex, endpoint, client), n in sorted(totals.items()):
            lines.append(
                f'fake_exchange_{name}_total{{exchange="{ex}",endpoint="{endpoint}",client="{client}"}} {n}'
            )
    lines += [
        "# HELP fake_exchange_active_faults Faults in effect, by kind.",
        "# TYPE fake_exchange_active_faults gauge",
    ]
    active = s.faults.active(s.clock())
    for kind in KINDS:
        lines.append(
            f'fake_exchange_active_faults{{kind="{kind}"}} {sum(1 for f in active if f.kind == kind)}'
        )
    lines += [
        "# HELP fake_exchange_ip_bans_total IP bans issued.",
        "# TYPE fake_exchange_ip_bans_total counter",
        f"fake_exchange_ip_bans_total {s.bans()}",
        "# HELP fake_exchange_fills_total Fills executed.",
        "# TYPE fake_exchange_fills_total counter",
        f"fake_exchange_fills_total {s.engine.fill_count}",
        "fake_exchange_up 1",
    ]
    return "\n".join(lines) + "\n"


def admin_app(s: ExchangeState) -> web.Application:  # noqa: PLR0915 - one closure per route
    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json() if request.can_read_body else {}
        except ValueError:
            raise web.HTTPBadRequest(
                text='{"error": "body must be JSON"}', content_type="application/json"
            ) from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(
                text='{"error": "body must be a JSON object"}', content_type="application/json"
            )
        return data

    async def add_fault(request: web.Request) -> web.Response:
        data = await body(request)
        kind = request.match_info["kind"]
        now = s.clock()
        try:
            if kind == "price_shock":
                spec = s.engine.market(str(data.get("symbol", "")))
                pct, duration = float(data["percent"]), float(data.get("duration_s", 0))
                s.engine.prices.shock(spec, pct, duration, now)
                return _json(
                    {
                        "kind": "price_shock",
                        "symbol": spec.binance,
                        "percent": pct,
                        "duration_s": duration,
                    }
                )
            params = {k: v for k, v in data.items() if k not in ("exchange", "duration_s", "count")}
            fault = s.faults.add(
                kind,
                str(data.get("exchange", "both")),
                now,
                duration_s=float(data["duration_s"])
                if data.get("duration_s") is not None
                else None,
                count=int(data["count"]) if data.get("count") is not None else None,
                **params,
            )
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        except Exception as exc:  # an engine refusal (unknown symbol)
            return _json({"error": str(exc)}, 400)
        if kind == "revoke_key":
            s.revoked.add(str(data.get("api_key", "")))
        return _json(fault.as_json(now))

    async def list_faults(request: web.Request) -> web.Response:
        now = s.clock()
        shocks = [
            {
                "kind": "price_shock",
                "symbol": sym,
                "percent": pct,
                "seconds_left": round(max(0.0, start + dur - now), 3),
            }
            for sym, (start, dur, pct) in s.engine.prices.shocks.items()
            if now < start + dur
        ]
        return _json([f.as_json(now) for f in s.faults.active(now)] + shocks)

    async def clear_fault(request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        if not fid.isdigit() or not s.faults.clear(int(fid)):
            return _json({"error": f"no active fault {fid}"}, 404)
        return _json({"cleared": int(fid)})

    async def reset(request: web.Request) -> web.Response:
        s.faults.reset()
        s.revoked.clear()
        s.engine.prices.shocks.clear()
        for ip in s.binance_limits.ips.values():
            ip.banned_until = ip.limited_until = 0.0
            ip.sent_while_limited = 0
        return _json({"reset": True})

    async def add_key(request: web.Request) -> web.Response:
        data = await body(request)
        account = ""
        if data.get("account_of"):  # a rotated key: the same account, a new key and secret
            base = s.keys.get(str(data["account_of"]))
            if base is None:
                return _json({"error": f"account_of: no such API key {data['account_of']!r}"}, 400)
            account = base.account_id
        try:
            key = ApiKey(
                str(data["api_key"]),
                str(data["secret"]),
                str(data.get("passphrase", "")),
                account,
            )
        except KeyError as exc:
            return _json({"error": f"missing {exc}"}, 400)
        s.add_key(key)
        return _json({"api_key": key.key, "shared_account": bool(key.account)})

    async def fills(request: web.Request) -> web.Response:
        account = request.query.get("api_key")
        if account is not None and account in s.keys:
            account = s.keys[account].account_id
        rows = [
            {
                "trade_id": f.trade_id,
                "order_id": f.order_id,
                "client_order_id": f.client_id,
                "symbol": f.symbol,
                "side": f.side,
                "price": str(f.price),
                "qty": str(f.qty),
                "time_ms": f.time_ms,
            }
            for f in s.engine.fills
            if account is None or f.account == account
        ]
        return _json(rows)

    async def stats(request: web.Request) -> web.Response:
        statuses: dict[str, int] = {}
        for (ex, _e, _c, status), n in s.requests.items():
            statuses[f"{ex}:{status}"] = statuses.get(f"{ex}:{status}", 0) + n
        prices = {m.binance: str(s.engine.price(m)) for m in s.engine.markets.values()}
        return _json(
            {
                "bans": s.bans(),
                "fills": s.engine.fill_count,
                "responses": statuses,
                "prices": prices,
            }
        )

    async def balances(request: web.Request) -> web.Response:
        account = request.query.get("api_key", "")
        if account in s.keys:
            account = s.keys[account].account_id
        return _json(
            {
                a: {"free": str(b.free), "locked": str(b.locked)}
                for a, b in s.engine.account(account).items()
            }
        )

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text=render_metrics(s), content_type="text/plain")

    async def health(request: web.Request) -> web.Response:
        return _json({"status": "ok"})

    app = web.Application()
    app.router.add_post("/admin/faults/{kind}", add_fault)
    app.router.add_get("/admin/faults", list_faults)
    app.router.add_delete("/admin/faults/{fid}", clear_fault)
    app.router.add_post("/admin/reset", reset)
    app.router.add_post("/admin/keys", add_key)
    app.router.add_get("/admin/fills", fills)
    app.router.add_get("/admin/stats", stats)
    app.router.add_get("/admin/balances", balances)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/health", health)
    return app

"""The runbook's HTTP GETs sent to the lab (loopback only): the exchange URLs to the fake
exchange, the backend's to its published ports. POSTs are never sent (they close positions):
the contract check covers them. A refusal carries the service's own answer."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.checks.contract import curls

__all__ = ["LAB_ROUTES", "probe_calls"]

# (host in the runbook, the port it means) -> (lab service, its published port's name)
LAB_ROUTES: dict[tuple[str, int | None], tuple[str, str]] = {
    ("api.binance.com", None): ("exchange", "binance"),
    ("api.kucoin.com", None): ("exchange", "kucoin"),
    ("localhost", 8080): ("backend", "health"),
    ("localhost", 3000): ("backend", "api"),
}


def probe_calls(doc: RunbookDoc, lab: Any, timeout_s: float = 5.0) -> list[Finding]:
    out: list[Finding] = []
    services = lab.services()
    for curl in curls(doc):
        parts = urlsplit(curl.url)
        host = "localhost" if parts.hostname == "127.0.0.1" else (parts.hostname or "")
        key = (host, None) if host.startswith("api.") else (host, parts.port)
        if (
            curl.method != "GET"
            or key not in LAB_ROUTES
            or (host == "localhost" and curl.runs_in != "backend")
        ):
            continue
        service, port = LAB_ROUTES[key]
        base = services[service].endpoint(port).url  # http://127.0.0.1:PORT
        url = base + parts.path + (f"?{parts.query}" if parts.query else "")
        request = urllib.request.Request(url, headers=dict(curl.headers), method="GET")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as resp:  # loopback only
                status, body = int(resp.status), ""
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read().decode(errors="replace")
        except OSError as exc:
            status, body = 0, str(exc)
        if status and status < 400:
            continue
        out.append(
            doc.finding(
                "contract",
                "contract.http-refused",
                "error",
                curl.command,
                f"GET {curl.url} answered {status or 'nothing'} on the lab's {service} "
                f"({port} port): {body.strip()[:200]}",
                hint="the answer is the lab service's own; the runbook's request needs fixing",
                subject=f"{host}{parts.path}",
            )
        )
    return out

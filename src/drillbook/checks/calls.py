"""The runbook's HTTP GETs sent to the lab (loopback only): the exchange URLs to the fake
exchange, the backend's to its published ports. POSTs are never sent (they close positions):
the contract check covers them. A refusal carries the service's own answer. How a GET reaches
the service is a :data:`Get`: urllib to a Docker lab's published ports (:func:`lab_get`), or
from inside the service's pod on Kubernetes (``checks._pods``)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.checks.contract import curls

__all__ = ["LAB_ROUTES", "Get", "lab_get", "probe_calls"]

# (host in the runbook, the port it means) -> (lab service, its published port's name)
LAB_ROUTES: dict[tuple[str, int | None], tuple[str, str]] = {
    ("api.binance.com", None): ("exchange", "binance"),
    ("api.kucoin.com", None): ("exchange", "kucoin"),
    ("localhost", 8080): ("backend", "health"),
    ("localhost", 3000): ("backend", "api"),
}
#: (lab service, its port's name, path and query, headers) -> (status, body); status 0: no
#: answer, the body says why
Get = Callable[[str, str, str, Mapping[str, str]], tuple[int, str]]


def lab_get(lab: Any, timeout_s: float = 5.0) -> Get:
    """GETs to a Docker lab's published ports on 127.0.0.1."""
    services = lab.services()

    def get(service: str, port: str, target: str, headers: Mapping[str, str]) -> tuple[int, str]:
        url = services[service].endpoint(port).url + target  # http://127.0.0.1:PORT
        request = urllib.request.Request(url, headers=dict(headers), method="GET")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as resp:  # loopback only
                return int(resp.status), ""
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError as exc:
            return 0, str(exc)

    return get


def probe_calls(doc: RunbookDoc, get: Get) -> list[Finding]:
    out: list[Finding] = []
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
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        status, body = get(service, port, target, dict(curl.headers))
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

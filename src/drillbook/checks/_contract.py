"""The stack's contract (fixtures/stack/CONTRACT.md) read as data: services and their ports,
HTTP endpoints, the backend's variables; the fake exchange's routes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from drillbook.errors import ConfigError

__all__ = ["Contract", "ExchangeRoute", "exchange_routes"]

_TICKS = re.compile(r"`([^`]+)`")
_ENDPOINT = re.compile(r"^(GET|POST|PUT|DELETE|PATCH) :(\d+)(/\S*)$")


@dataclass(frozen=True)
class ExchangeRoute:
    method: str
    path: str
    signed: bool
    prefix: bool = False


@dataclass(frozen=True)
class Contract:
    ports: tuple[tuple[str, tuple[int, ...]], ...]  # service -> its ports
    names: tuple[tuple[str, str], ...]  # a runbook name (backend-service) -> service
    endpoints: frozenset[tuple[str, int, str]]  # (method, port, path)
    variables: frozenset[str]  # the backend's environment variables

    @classmethod
    def load(cls, path: Path) -> Contract:
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the stack's contract: {exc}") from exc
        ports: list[tuple[str, tuple[int, ...]]] = []
        names: list[tuple[str, str]] = []
        endpoints: set[tuple[str, int, str]] = set()
        variables: set[str] = set()
        section = ""
        for raw in text.splitlines():
            if raw.startswith("## "):
                section = raw[3:].strip().lower()
                continue
            cells = (
                [c.strip() for c in raw.strip().strip("|").split("|")]
                if raw.startswith("|")
                else []
            )
            if (
                len(cells) < 2
                or set(cells[0]) <= {"-", " "}
                or cells[0] in ("service", "variable", "endpoint")
            ):
                continue
            if section.startswith("services") and len(cells) >= 3:
                service = cells[0].split(" ", 1)[0]
                numbers = tuple(int(n) for n in re.findall(r"`(\d+)`", cells[2]))
                ports.append((service, numbers))
                for name in _TICKS.findall(cells[1]):
                    for part in name.split(", "):
                        names.append((part.split(":", 1)[0].removeprefix("deployment/"), service))
                names.append((service, service))
            elif section.startswith("backend configuration"):
                variables.update(v for v in _TICKS.findall(cells[0]) if v.isupper())
            elif section.startswith("http endpoints"):
                for tick in _TICKS.findall(cells[0]):
                    match = _ENDPOINT.match(tick)
                    if match:
                        endpoints.add(
                            (match.group(1), int(match.group(2)), match.group(3).split("?")[0])
                        )
        if not ports or not endpoints:
            raise ConfigError(
                f"{path}: expected a 'Services' table with ports and an 'HTTP endpoints' table"
            )
        return cls(tuple(ports), tuple(names), frozenset(endpoints), frozenset(variables))

    def service_of(self, host: str) -> str | None:
        return dict(self.names).get(host)

    def ports_of(self, service: str) -> tuple[int, ...]:
        return dict(self.ports).get(service, ())


def exchange_routes() -> dict[str, list[ExchangeRoute]]:
    """The fake exchange's routes by the host the runbook uses (its wire spec as code)."""
    from fake_exchange import binance, kucoin

    return {
        "api.binance.com": [ExchangeRoute(m, p, r.signed) for (m, p), r in binance.ROUTES.items()],
        "api.kucoin.com": [ExchangeRoute(m, p, r.signed) for (m, p), r in kucoin.EXACT.items()]
        + [ExchangeRoute(m, p, r.signed, prefix=True) for m, p, r in kucoin.PREFIX],
    }

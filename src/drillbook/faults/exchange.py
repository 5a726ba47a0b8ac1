"""Exchange faults through the fake exchange's admin API: 429s, maintenance, revoked keys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import LabError
from drillbook.waiting import Check
from fake_exchange.client import AdminClient, AdminError

__all__ = [
    "ExchangeMaintenance",
    "ExchangeRateLimited",
    "ExchangeUnreachable",
    "KeyRevoked",
    "PriceShock",
    "admin_for",
    "backend_health",
    "current_exchange_key",
    "exchange_credentials",
    "new_exchange_key",
]


class _PodAdminClient(AdminClient):
    """The admin API of a fake exchange running as a pod (a real-node Kubernetes lab): each
    call is ``curl`` in the exchange's own pod to its loopback admin port (``kubectl exec``),
    so nothing is published and nothing leaves the pod's network."""

    def __init__(self, lab: Any, timeout_s: float = 5.0) -> None:
        super().__init__("http://127.0.0.1:8100", timeout_s)
        self.lab = lab

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        from drillbook.environments.kubernetes import KubernetesPlatform

        argv = [
            "curl", "-s", "-m", f"{self.timeout_s:g}", "-X", method,
            "-w", "\n%{http_code}", self.base_url + path,
        ]  # fmt: skip
        if body is not None:
            argv[1:1] = ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
        result = KubernetesPlatform(self.lab).exec("exchange", argv, check=False)
        raw, _, code = result.output.rstrip("\n").rpartition("\n")
        if result.exit_code != 0 or not code.isdigit():
            raise OSError(f"{method} {path} in the exchange pod: exit {result.exit_code}")
        if int(code) >= 400:
            raise AdminError(f"{method} {path}: HTTP {code}: {raw[:300]}")
        return json.loads(raw) if raw.strip().startswith(("{", "[")) else raw


def admin_for(lab: Any) -> AdminClient:
    """The admin client of the lab's fake exchange: on its published loopback port (Docker),
    or through its pod (Kubernetes, real nodes)."""
    from drillbook.environments.kubernetes import KubernetesLab

    if isinstance(lab, KubernetesLab):
        return _PodAdminClient(lab)
    return AdminClient(lab.services()["exchange"].endpoint("admin").url)


def _active(lab: DockerLab, kind: str) -> Check:
    """Whether the fake exchange lists a fault of ``kind`` as active."""
    kinds = [f["kind"] for f in admin_for(lab).faults()]
    return Check(kind in kinds, f"active faults: {kinds}")


def _bot_view(lab: DockerLab, exchanges: tuple[str, ...]) -> str:
    """What the backend's /health says of each exchange (up, backing off): the other half of
    a fault's evidence, for the message when it does not take effect."""
    try:
        health = backend_health(lab)
        deps = health["dependencies"]
        return "; ".join(f"{e}: {deps.get(e)}" for e in exchanges)
    except (OSError, KeyError, TypeError, ValueError, LabError) as exc:
        return f"GET /health: {type(exc).__name__}: {exc}"


def backend_health(lab: Any, timeout_s: float = 2.0) -> Any:
    """The backend's ``GET :8080/health`` body (a 503 still carries it): through its published
    port (Docker), or ``curl`` in a ready backend pod (Kubernetes, real nodes)."""
    from drillbook.environments.kubernetes import KubernetesLab, KubernetesPlatform

    if isinstance(lab, KubernetesLab):
        return KubernetesPlatform(lab).get_json("backend", 8080, "/health", timeout_s=timeout_s)
    _, health = DockerPlatform(lab).http_call("backend", "health", "/health", timeout_s=timeout_s)
    return health


def _reset(lab: DockerLab) -> None:
    try:
        admin_for(lab).reset()
    except (AdminError, OSError, KeyError, LabError):
        return  # the exchange is gone with the lab: nothing left to revert


@dataclass(frozen=True)
class ExchangeRateLimited:
    """The exchange answers 429 (Binance -1003 with Retry-After, KuCoin 429000) for
    ``duration_s``: what a bot that polls too hard meets. Revert clears every exchange fault."""

    exchange: str = "both"
    duration_s: float = 8.0
    _served: dict[str, int] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.exchange} answers 429 for {self.duration_s:g}s"

    def _exchanges(self) -> tuple[str, ...]:
        return ("binance", "kucoin") if self.exchange == "both" else (self.exchange,)

    def _count(self, lab: DockerLab) -> dict[str, int]:
        responses = admin_for(lab).stats()["responses"]
        return {e: int(responses.get(f"{e}:429", 0)) for e in self._exchanges()}

    def inject(self, lab: DockerLab) -> None:
        self._served.clear()
        self._served.update(self._count(lab))
        self._served["bans"] = int(admin_for(lab).stats()["bans"])
        admin_for(lab).rate_limit(self.exchange, duration_s=self.duration_s)

    def bans_since_injection(self, lab: DockerLab) -> int:
        """The 418 bans the exchange issued since this fault was injected (its count is the
        exchange's whole life: a ban of an earlier test or drill is not this one's)."""
        return int(admin_for(lab).stats()["bans"]) - self._served.get("bans", 0)

    def verify_active(self, lab: DockerLab) -> Check:
        """Listed as active, and a 429 really served by each exchange since the injection:
        the bot has met the limit (a fault nobody runs into is not in effect)."""
        active = _active(lab, "rate_limit")
        now = self._count(lab)
        served = {e: now[e] - self._served.get(e, 0) for e in now}
        bot = _bot_view(lab, self._exchanges())
        return Check(
            active.ok and all(n > 0 for n in served.values()),
            f"{active.detail}, 429s served since the injection: {served}; the bot: {bot}",
        )

    def revert(self, lab: DockerLab) -> None:
        _reset(lab)


@dataclass(frozen=True)
class ExchangeUnreachable:
    """The exchange closes every connection without an answer (``drop_connections``) for
    ``duration_s`` (until reverted when None): the ExchangeConnectionLost condition. Revert
    clears every exchange fault."""

    exchange: str = "both"
    duration_s: float | None = None

    @property
    def name(self) -> str:
        return f"{self.exchange} drops every connection"

    def inject(self, lab: DockerLab) -> None:
        admin_for(lab).drop_connections(self.exchange, duration_s=self.duration_s)

    def verify_active(self, lab: DockerLab) -> Check:
        return _active(lab, "drop_connections")

    def revert(self, lab: DockerLab) -> None:
        _reset(lab)


@dataclass(frozen=True)
class PriceShock:
    """Every symbol in ``symbols`` jumps by ``percent`` (a pump or a crash) and stays there: the
    market move behind HighRiskExposure. Revert moves each price back by the inverse shock."""

    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    percent: float = 400.0

    def __post_init__(self) -> None:
        if not self.percent > -100:
            raise ValueError(f"PriceShock percent={self.percent}: a price cannot fall 100% or more")

    @property
    def name(self) -> str:
        return f"price shock {self.percent:+g}% on {', '.join(self.symbols)}"

    def inject(self, lab: DockerLab) -> None:
        admin = admin_for(lab)
        for symbol in self.symbols:
            admin.price_shock(symbol, self.percent)

    def verify_active(self, lab: DockerLab) -> Check:
        # a shock of duration 0 is folded into the price at once: nothing stays listed
        return Check(True, f"shocked {', '.join(self.symbols)} by {self.percent:+g}%")

    def revert(self, lab: DockerLab) -> None:
        inverse = -100 * self.percent / (100 + self.percent)
        try:
            admin = admin_for(lab)
            for symbol in self.symbols:
                admin.price_shock(symbol, inverse)
        except (AdminError, OSError, KeyError):
            return


@dataclass(frozen=True)
class ExchangeMaintenance:
    """The exchange is down for maintenance (Binance 503 / system status 1, KuCoin
    ``status: close``) until reverted: the runbook's "If Exchange Maintenance"."""

    exchange: str = "both"

    @property
    def name(self) -> str:
        return f"{self.exchange} in maintenance"

    def inject(self, lab: DockerLab) -> None:
        admin_for(lab).maintenance(self.exchange)

    def verify_active(self, lab: DockerLab) -> Check:
        return _active(lab, "maintenance")

    def revert(self, lab: DockerLab) -> None:
        _reset(lab)


@dataclass(frozen=True)
class KeyRevoked:
    """The exchange refuses the backend's current API key for ``exchange`` (leaked and
    disabled, or expired). Revert lifts the revocation."""

    exchange: str = "binance"

    @property
    def name(self) -> str:
        return f"{self.exchange} API key revoked"

    def inject(self, lab: DockerLab) -> None:
        key = current_exchange_key(lab, self.exchange)
        admin_for(lab).revoke_key(key, self.exchange)

    def verify_active(self, lab: DockerLab) -> Check:
        return _active(lab, "revoke_key")

    def revert(self, lab: DockerLab) -> None:
        _reset(lab)


def new_exchange_key(lab: DockerLab, exchange: str) -> dict[str, str]:
    """The runbook's "generate new API keys" at the exchange: a new key and secret for the
    same account as the backend's current one (the fake exchange's admin API stands in for the
    exchange's key management page). Returns the values for ``exchange-api-secrets``; the old
    key stays valid until revoked (``revoke_exchange_key``)."""
    import secrets as _secrets

    prefix = {"binance": "BINANCE", "kucoin": "KUCOIN"}.get(exchange)
    if prefix is None:
        raise LabError(f"no exchange {exchange!r}", hint="exchanges are: binance, kucoin")
    env = _backend_env(lab)
    new = {
        f"{prefix}_API_KEY": f"rotated-{_secrets.token_hex(8)}",
        f"{prefix}_API_SECRET": _secrets.token_urlsafe(24),
    }
    passphrase = env.get("KUCOIN_API_PASSPHRASE", "") if prefix == "KUCOIN" else ""
    admin_for(lab).add_key(
        new[f"{prefix}_API_KEY"],
        new[f"{prefix}_API_SECRET"],
        passphrase,
        account_of=env[f"{prefix}_API_KEY"],
    )
    return new


def exchange_credentials(lab: DockerLab, exchange: str) -> dict[str, str]:
    """The backend's current ``exchange-api-secrets`` entries for ``exchange`` (secret values:
    keep them in memory, never print them)."""
    prefix = exchange.upper()
    return {k: v for k, v in _backend_env(lab).items() if k.startswith(f"{prefix}_API_")}


def current_exchange_key(lab: DockerLab, exchange: str) -> str:
    """The API key the backend uses for ``exchange`` now (a key id, not a secret)."""
    return _backend_env(lab)[f"{exchange.upper()}_API_KEY"]


def _backend_env(lab: DockerLab) -> dict[str, str]:
    raw = lab.container("backend").attrs["Config"]["Env"] or []
    return dict(item.split("=", 1) for item in raw if "=" in item)

"""The runbook's API Key Compromise as a drill: a leaked Binance key that an intruder trades with.

Immediate Response: both exchanges disabled in the bot, the account's recent activity reviewed
for trades the bot never ordered (evidence under the report), a new key generated, the leaked
key revoked at the exchange (the runbook never says so: a finding in CONTRACT.md), the secret
updated. Recovery: the new key verified with a signed call, Binance re-enabled with positions of
at most 1 %, the bot's API activity captured. The runbook gives this procedure no times; a
security incident's windows (Suspected Breach: immediate actions < 5 min, containment < 1 h)
bound its two stages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from drillbook.drills._budgets import stage_name, window_budgets
from drillbook.drills._model import Drill, Invariant, Step
from drillbook.drills._security import PROCEDURE as BREACH
from drillbook.drills._security import put_keys_back
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import ConfigError, LabError
from drillbook.faults.exchange import admin_for, exchange_credentials, new_exchange_key
from drillbook.faults.security import KeyCompromised, binance_signed
from drillbook.probes import ExchangeConnected, ServiceHealthy
from drillbook.runbook import Runbook
from drillbook.sla import Budget
from drillbook.waiting import Check, Wait

__all__ = ["KeyCompromiseContained", "NoUnauthorizedTrades", "api_key_compromise"]

PROCEDURE = ("Security Incident Response", "API Key Compromise")


def unauthorized_fills(lab: DockerLab, since_ms: int) -> list[dict[str, Any]]:
    """Fills on the bot's exchange accounts since ``since_ms`` that the bot never ordered: no
    row in ``orders`` (its write-ahead log, written before an order leaves) or in
    ``trade_executions``. Fills are read first, so an order of the bot's placed meanwhile is
    already in ``orders``."""
    import psycopg

    env = dict(
        e.split("=", 1) for e in lab.container("exchange").attrs["Config"]["Env"] or [] if "=" in e
    )
    admin = admin_for(lab)
    fills = {
        f["client_order_id"]: {**f, "exchange": exchange}
        for exchange in ("binance", "kucoin")
        for f in admin.fills(env[f"{exchange.upper()}_API_KEY"])
        if int(f["time_ms"]) >= since_ms
    }
    if not fills:
        return []
    with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
        known = {
            r[0]
            for r in conn.execute(
                "SELECT client_order_id FROM orders WHERE client_order_id = ANY(%(ids)s)"
                " UNION SELECT client_order_id FROM trade_executions"
                " WHERE client_order_id = ANY(%(ids)s)",
                {"ids": list(fills)},
            )
        }
    return sorted((f for c, f in fills.items() if c not in known), key=lambda f: f["time_ms"])


@dataclass(frozen=True)
class NoUnauthorizedTrades:
    """No fill on the bot's exchange accounts since the drill began that the bot never ordered
    (the runbook's "Review exchange account activity for unauthorized trades")."""

    since: dict[str, float] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return "no unauthorized trade on the exchange accounts"

    def check(self, lab: DockerLab) -> Check:
        try:
            found = unauthorized_fills(lab, int(self.since.get("t", time.time() - 60) * 1000))
        except Exception as exc:
            return Check(False, f"{type(exc).__name__}: {exc}")
        ids = [f["client_order_id"] for f in found]
        return Check(not found, f"{len(found)} unauthorized fill(s): {ids[:3]}")


@dataclass(frozen=True)
class KeyCompromiseContained:
    """Contained, seen from outside: the leaked key is refused by the exchange, the backend
    trades with another key, Binance is re-enabled with positions of at most 1 %, and nobody
    traded on the account without the bot since the leaked key was revoked."""

    leaked: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    revoked_at: dict[str, float] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return "API key compromise contained"

    def check(self, lab: DockerLab) -> Check:
        if not self.leaked:
            return Check(False, "the leaked key is unknown (setup did not run)")
        problems: list[str] = []
        # each look on its own: one that fails (the backend's container replaced by a rollout
        # at that instant, a slow answer) must not hide what the others saw
        try:
            url = lab.services()["exchange"].endpoint("binance").url
            status, _ = binance_signed(
                url,
                self.leaked["BINANCE_API_KEY"],
                self.leaked["BINANCE_API_SECRET"],
                "GET",
                "/api/v3/account",
            )
            if status == 200:
                problems.append("the leaked key still works at the exchange")
        except Exception as exc:
            problems.append(f"the leaked key at the exchange: {type(exc).__name__}: {exc}")
        try:
            env = dict(
                e.split("=", 1)
                for e in lab.container("backend").attrs["Config"]["Env"] or []
                if "=" in e
            )
            if env.get("BINANCE_API_KEY") == self.leaked["BINANCE_API_KEY"]:
                problems.append("the backend still uses the leaked key")
            if env.get("BINANCE_API_ENABLED", "true").lower() != "true":
                problems.append("Binance not re-enabled")
            if env.get("MAX_POSITION_SIZE_PERCENT") != "1":
                value = env.get("MAX_POSITION_SIZE_PERCENT")
                problems.append(f"MAX_POSITION_SIZE_PERCENT={value}, not the gradual 1")
        except Exception as exc:
            problems.append(f"the backend's settings: {type(exc).__name__}: {exc}")
        try:
            since = self.revoked_at.get("t")
            late = unauthorized_fills(lab, int(since * 1000)) if since else []
            if late:
                problems.append(f"{len(late)} unauthorized fill(s) after the revocation")
        except Exception as exc:
            problems.append(f"the fills since the revocation: {type(exc).__name__}: {exc}")
        return Check(not problems, "; ".join(problems) or "contained")


def _stages(runbook: Runbook) -> tuple[str, str]:
    names = [
        stage_name(p.path[-1])
        for p in runbook.procedures
        if p.path[: len(PROCEDURE)] == PROCEDURE and len(p.path) > len(PROCEDURE)
    ]
    if len(names) != 2:
        raise ConfigError(
            f"{runbook.source}: {' / '.join(PROCEDURE)} has stages {names}",
            hint="the api-key-compromise drill expects two: Immediate Response, then Recovery",
        )
    return names[0], names[1]


def api_key_compromise(  # noqa: PLR0915 - a closure per step
    runbook: Runbook, invariants: tuple[Invariant[Any], ...] = ()
) -> Drill:
    """The API Key Compromise drill; its stage windows borrowed from Suspected Breach;
    ``invariants`` from the catalogue (the ledger's), besides its own."""
    immediate, recovery = _stages(runbook)
    breach = {b.measure.split(":", 1)[1]: b for b in window_budgets(runbook, *BREACH)}
    first, last = breach["Immediate Actions"], breach["Containment"]
    borrowed = "(the runbook gives API Key Compromise no time: a security incident's"
    budgets = (
        Budget(f"window:{immediate}", first.seconds, f"{first.source} {borrowed} first window)"),
        Budget(f"window:{recovery}", last.seconds, f"{last.source} {borrowed} containment)"),
        Budget("time_to_recover", last.seconds, f"{last.source} {borrowed} containment)"),
    )
    fault = KeyCompromised()
    clean = NoUnauthorizedTrades()
    contained = KeyCompromiseContained()
    saved: dict[str, dict[str, str]] = {}
    revocations: list[int] = []
    fresh: dict[str, str] = {}

    def remember(platform: DockerPlatform) -> None:
        saved.clear()
        saved["binance"] = exchange_credentials(platform.lab, "binance")
        contained.leaked.clear()
        contained.leaked.update(saved["binance"])
        contained.revoked_at.clear()
        clean.since["t"] = time.time()

    def review(platform: DockerPlatform) -> None:
        found = unauthorized_fills(platform.lab, int(clean.since["t"] * 1000))
        rows = [
            "\t".join(str(f[k]) for k in ("time_ms", "exchange", "client_order_id", "symbol"))
            + f"\t{f['side']}\t{f['qty']}\t{f['price']}"
            for f in found
        ]
        header = "time_ms\texchange\tclient_order_id\tsymbol\tside\tqty\tprice\n"
        platform.save_evidence("unauthorized-trades.tsv", header + "\n".join(rows) + "\n")
        if not found:
            raise LabError("the account's activity shows no unauthorized trade to report")

    def generate(platform: DockerPlatform) -> None:
        fresh.clear()
        fresh.update(new_exchange_key(platform.lab, "binance"))

    def revoke(platform: DockerPlatform) -> None:
        admin = admin_for(platform.lab)
        revocations.append(int(admin.revoke_key(contained.leaked["BINANCE_API_KEY"])["id"]))
        contained.revoked_at["t"] = time.time()

    def disable(platform: DockerPlatform) -> None:
        # with both exchanges off the bot cannot trade and says so (/health 503): the rollout
        # is not waited healthy (on Kubernetes a readiness probe on /health would stall it
        # with the old pod, and the leaked key, still running: CONTRACT.md)
        platform.set_env(
            "backend", {"BINANCE_API_ENABLED": "false", "KUCOIN_API_ENABLED": "false"}, wait=False
        )
        _serving(platform)

    def update(platform: DockerPlatform) -> None:
        if not fresh:
            raise LabError("no new key to put in exchange-api-secrets")
        platform.rotate_secret("exchange-api-secrets", fresh, wait=False)
        _serving(platform)

    def verify(platform: DockerPlatform) -> None:
        url = platform.lab.services()["exchange"].endpoint("binance").url
        status, body = binance_signed(
            url, fresh["BINANCE_API_KEY"], fresh["BINANCE_API_SECRET"], "GET", "/api/v3/account"
        )
        if status != 200:
            raise LabError(f"the new key does not work: GET /api/v3/account -> {status} {body}")

    def monitor(platform: DockerPlatform) -> None:
        lines = [
            line
            for line in platform.logs("backend").splitlines()
            if any(w in line.lower() for w in ("api", "trade", "order"))
        ]
        platform.save_evidence("api-activity.log", "\n".join(lines) + "\n")

    def document(platform: DockerPlatform) -> None:
        placed = fault.placed
        platform.save_evidence(
            "incident-report.md",
            "# API key compromise (drill)\n\n"
            f"- leaked: the Binance key of lab {platform.lab.name} (value not shown)\n"
            f"- the intruder's orders accepted by the exchange: {len(placed)}\n"
            "- response: both exchanges disabled, unauthorized trades reviewed "
            "(unauthorized-trades.tsv), new key generated, leaked key revoked, secret "
            "updated, new key verified, Binance re-enabled at 1 % position size\n"
            "- timeline: see the run's journal (incident clock)\n"
            "- lesson: the runbook never revokes the leaked key at the exchange; until it is, "
            "whoever holds it can still trade\n",
        )

    def restore(platform: DockerPlatform) -> None:
        # the intruder's trades are reported (unauthorized-trades.tsv): from here on, only a
        # new one is unauthorized
        clean.since["t"] = time.time()
        put_keys_back(
            platform,
            saved,
            revocations,
            {
                "BINANCE_API_ENABLED": None,
                "KUCOIN_API_ENABLED": None,
                "MAX_POSITION_SIZE_PERCENT": None,
            },
        )

    ref = "API Key Compromise / "
    steps: tuple[Step[Any], ...] = (
        Step(
            "kubectl set env deployment/backend BINANCE_API_ENABLED=false KUCOIN_API_ENABLED=false",
            disable,
            ref + f"{immediate} 1 (Disable compromised keys immediately)",
            immediate,
        ),
        Step(
            "review the exchange account activity for unauthorized trades",
            review,
            ref + f"{immediate} 2 (Check recent API usage)",
            immediate,
        ),
        Step(
            "create a new Binance key at the exchange",
            generate,
            ref + f"{immediate} 3 (Generate new API keys)",
            immediate,
        ),
        Step(
            "revoke the leaked key at the exchange",
            revoke,
            ref + f"{immediate} 3 (not in the runbook: a leaked key works until the exchange "
            "deletes it; CONTRACT.md)",
            immediate,
        ),
        Step(
            "kubectl create secret generic exchange-api-secrets ... | kubectl apply -f -",
            update,
            ref + f"{immediate} 4 (Update secrets)",
            immediate,
        ),
        Step(
            'curl -H "X-MBX-APIKEY: new-key" .../api/v3/account',
            verify,
            ref + f"{recovery} 1 (Verify new keys work)",
            recovery,
        ),
        Step(
            "kubectl set env deployment/backend BINANCE_API_ENABLED=true "
            "MAX_POSITION_SIZE_PERCENT=1",
            lambda p: p.set_env(
                "backend", {"BINANCE_API_ENABLED": "true", "MAX_POSITION_SIZE_PERCENT": "1"}
            ),
            ref + f"{recovery} 2 (Re-enable trading gradually)",
            recovery,
        ),
        Step(
            "kubectl logs deployment/backend | grep -i 'api|trade|order'",
            monitor,
            ref + f"{recovery} 3 (Monitor for suspicious activity)",
            recovery,
        ),
        Step("incident report", document, ref + f"{recovery} 4 (Document incident)", recovery),
    )
    return Drill(
        "api-key-compromise",
        "API Key Compromise",
        fault,
        (clean, ServiceHealthy("backend")),
        steps,
        budgets,
        (*invariants, Invariant("incident documented", _documented)),
        "the Binance key leaked and an intruder trades with it; disable, review the account, "
        "new key, revoke the leaked one, update the secret, verify, re-enable at 1 %",
        setup=(Step("remember the key in use (the one that leaks)", remember),),
        teardown=(Step("back to normal: the original key, both exchanges on", restore),),
        recovered_when=(contained, ExchangeConnected("binance"), ServiceHealthy("backend")),
    )


def _serving(platform: DockerPlatform) -> None:
    """Wait until the backend answers /health at all (200 or 503): the process serves."""
    import urllib.error

    def answers() -> Check:
        try:
            status, body = platform.http_call("backend", "health", "/health")
        except (urllib.error.URLError, OSError, KeyError) as exc:
            return Check(False, f"{type(exc).__name__}: {exc}")
        state = body.get("status") if isinstance(body, dict) else ""
        return Check(True, f"/health -> {status} {state}")

    Wait(timeout_s=60, poll_s=0.25).until(answers, "the backend to serve /health")


def _documented(platform: DockerPlatform) -> Check:
    folder = platform.evidence_dir
    names = sorted(p.name for p in folder.iterdir()) if folder and folder.is_dir() else []
    wanted = ("unauthorized-trades.tsv", "api-activity.log", "incident-report.md")
    missing = [w for w in wanted if w not in names]
    return Check(not missing, f"evidence files: {names}; missing: {missing}")

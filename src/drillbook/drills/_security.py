"""The runbook's Suspected Breach as a drill: its three stages, each timed against its window.

Immediate Actions (< 5 minutes): emergency mode, trading stopped, evidence captured, security
team notified. Investigation (< 30 minutes): the audit log, API access, exfiltration counts,
connections. Containment (< 1 hour): exchange secrets rotated and the old keys revoked, password
reset forced, MFA on, short sessions. The evidence is written under the run's report directory,
with every secret value redacted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from drillbook.drills._budgets import stage_name, window_budgets
from drillbook.drills._model import Drill, Invariant, Step
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import LabError
from drillbook.faults.exchange import admin_for, exchange_credentials, new_exchange_key
from drillbook.faults.security import INTRUDER, Intrusion
from drillbook.probes import ServiceHealthy
from drillbook.runbook import Runbook
from drillbook.sla import Budget
from drillbook.waiting import Check

__all__ = ["NoIntrusionTraces", "SecurityContained", "put_keys_back", "suspected_breach"]

EXCHANGES = ("binance", "kucoin")
PROCEDURE = ("Security Incident Response", "Suspected Breach")
_DRILL_USERS = "@drill.invalid"  # users the drill's setup creates, and its teardown removes


def _sql(lab: DockerLab, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
        cur = conn.execute(query, params)
        return list(cur.fetchall()) if cur.description else []


def _health(lab: DockerLab) -> dict[str, Any]:
    # a 503 still carries the body
    return dict(DockerPlatform(lab).http_call("backend", "health", "/health", timeout_s=2)[1])


@dataclass(frozen=True)
class NoIntrusionTraces:
    """``audit_logs`` of the last 24 hours hold no action by an unknown actor (the runbook's
    "Check for unauthorized access")."""

    @property
    def name(self) -> str:
        return "no unknown actor in audit_logs (24 h)"

    def check(self, lab: DockerLab) -> Check:
        try:
            rows = _sql(
                lab,
                "SELECT count(*) FROM audit_logs WHERE actor LIKE 'unknown%%'"
                " AND created_at > NOW() - INTERVAL '24 hours'",
            )
        except Exception as exc:
            return Check(False, f"audit_logs: {type(exc).__name__}: {exc}")
        count = int(rows[0][0])
        return Check(count == 0, f"{count} audit row(s) by unknown actors")


@dataclass(frozen=True)
class SecurityContained:
    """The breach is contained, seen from the outside: the backend answers in emergency mode
    with trading stopped, MFA required and sessions of at most 300 s; every user must reset
    their password; no exchange key in use is one the intruder could have (the keys of the
    breach are refused by the exchange)."""

    compromised: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return "breach contained"

    def check(self, lab: DockerLab) -> Check:
        try:
            health = _health(lab)
            users = _sql(lab, "SELECT count(*) FROM users WHERE NOT password_reset_required")
        except Exception as exc:
            return Check(False, f"{type(exc).__name__}: {exc}")
        flags, security = health.get("flags", {}), health.get("security", {})
        missing = []
        if not flags.get("EMERGENCY_MODE"):
            missing.append("EMERGENCY_MODE is off")
        if health.get("trading", {}).get("allowed", True):
            missing.append("trading still allowed")
        if not security.get("mfa_required"):
            missing.append("MFA not required")
        if security.get("session_timeout_s", 3600) > 300:
            missing.append(f"session timeout {security.get('session_timeout_s')}s > 300s")
        if int(users[0][0]):
            missing.append(f"{users[0][0]} user(s) not forced to reset their password")
        env = dict(
            e.split("=", 1)
            for e in lab.container("backend").attrs["Config"]["Env"] or []
            if "=" in e
        )
        for exchange, key in self.compromised.items():
            if env.get(f"{exchange.upper()}_API_KEY") == key:
                missing.append(f"the {exchange} key of the breach is still in use")
        return Check(not missing, "; ".join(missing) or "contained")


def put_keys_back(
    platform: DockerPlatform,
    saved: dict[str, dict[str, str]],
    revocations: list[int],
    env: dict[str, str | None],
) -> None:
    """A teardown: lift the drill's revocations, re-issue the ``saved`` keys at the exchange
    (a revoked key stays revoked at a real one; the lab's re-issues the same key and secret) and
    restart the backend with them and ``env``, so the lab keeps the credentials it had."""
    admin = admin_for(platform.lab)
    for fid in revocations:
        try:
            admin.clear(fid)
        except Exception:  # already cleared (a reset)
            continue
    revocations.clear()
    for exchange, creds in saved.items():
        prefix = exchange.upper()
        admin.add_key(
            creds[f"{prefix}_API_KEY"],
            creds[f"{prefix}_API_SECRET"],
            creds.get(f"{prefix}_API_PASSPHRASE", ""),
        )
    values = {k: v for creds in saved.values() for k, v in creds.items()}
    current = {k: v for e in EXCHANGES for k, v in exchange_credentials(platform.lab, e).items()}
    env = dict(env)
    if values and current != values:
        env.update(values)
    platform.set_env("backend", env)


def suspected_breach(runbook: Runbook) -> Drill:  # noqa: PLR0915 - a closure per step, one shared state
    """The Suspected Breach drill with its stage windows from ``runbook``."""
    windows = window_budgets(runbook, *PROCEDURE)
    stages = {b.measure.split(":", 1)[1] for b in windows}
    immediate, investigation, containment = (
        stage_name(p.path[-1])
        for p in runbook.procedures
        if p.path[: len(PROCEDURE)] == PROCEDURE and p.window is not None
    )
    assert {immediate, investigation, containment} == stages
    saved: dict[str, dict[str, str]] = {}
    revocations: list[int] = []
    contained = SecurityContained()

    def remember(platform: DockerPlatform) -> None:
        saved.clear()
        contained.compromised.clear()
        for exchange in EXCHANGES:
            creds = exchange_credentials(platform.lab, exchange)
            saved[exchange] = creds
            contained.compromised[exchange] = creds[f"{exchange.upper()}_API_KEY"]
        platform.sql(
            "INSERT INTO users (email, password_hash) SELECT 'trader' || i || %s, 'x'"
            " FROM generate_series(1, 3) i ON CONFLICT DO NOTHING",
            (_DRILL_USERS,),
        )

    def capture_evidence(platform: DockerPlatform) -> None:
        stamp = int(time.time())
        platform.save_evidence(f"incident-logs-{stamp}.log", platform.logs("backend"))
        events = [
            f"{s.service}\t{s.container}\t{s.state}\thealthy={s.healthy}\t{s.detail}"
            for s in platform.lab.status()
        ]
        platform.save_evidence(f"incident-events-{stamp}.log", "\n".join(events) + "\n")

    def notify(platform: DockerPlatform) -> None:
        health = _health(platform.lab)
        platform.save_evidence(
            "security-notification.txt",
            f"Suspected breach in lab {platform.lab.name}: emergency mode "
            f"{health.get('flags', {}).get('EMERGENCY_MODE')}, trading allowed "
            f"{health.get('trading', {}).get('allowed')}; evidence in this directory.\n",
        )

    def audit(platform: DockerPlatform) -> None:
        rows = platform.sql(
            "SELECT * FROM audit_logs WHERE created_at > NOW() - INTERVAL '24 hours'"
            " ORDER BY created_at DESC;"
        )
        platform.save_evidence(
            "audit-logs-24h.tsv", "\n".join("\t".join(map(str, r)) for r in rows) + "\n"
        )
        actors = {r[1] for r in rows}
        if INTRUDER not in actors:
            raise LabError(f"the audit log shows no unauthorized access (actors: {actors})")

    def api_access(platform: DockerPlatform) -> None:
        lines = [
            line
            for line in platform.logs("backend").splitlines()
            if any(w in line.lower() for w in ("401", "403", "suspicious", "unauthorized"))
        ]
        platform.save_evidence("security-analysis.log", "\n".join(lines) + "\n")

    def exfiltration(platform: DockerPlatform) -> None:
        users = platform.sql("SELECT COUNT(*) FROM users;")[0][0]
        trades = platform.sql("SELECT COUNT(*) FROM trade_executions;")[0][0]
        platform.save_evidence("exfiltration-counts.txt", f"users {users}\ntrades {trades}\n")

    def connections(platform: DockerPlatform) -> None:
        # netstat -an | grep ESTABLISHED: the kernel's table (the image has no netstat)
        out = platform.exec("backend", ["cat", "/proc/net/tcp", "/proc/net/tcp6"]).output
        established = [line for line in out.splitlines()[1:] if line.split()[3:4] == ["01"]]
        platform.save_evidence("established-connections.txt", "\n".join(established) + "\n")

    def rotate_all(platform: DockerPlatform) -> None:
        admin = admin_for(platform.lab)
        values: dict[str, str] = {}
        for exchange in EXCHANGES:
            values.update(new_exchange_key(platform.lab, exchange))
        platform.rotate_secret("exchange-api-secrets", values)
        for exchange, key in contained.compromised.items():
            revocations.append(int(admin.revoke_key(key, exchange)["id"]))

    def force_reset(platform: DockerPlatform) -> None:
        platform.sql("UPDATE users SET password_reset_required = true;")

    def restore(platform: DockerPlatform) -> None:
        put_keys_back(
            platform,
            saved,
            revocations,
            {
                "EMERGENCY_MODE": None,
                "TRADING_ENABLED": None,
                "MFA_REQUIRED": None,
                "SESSION_TIMEOUT": None,
            },
        )
        platform.sql("DELETE FROM users WHERE email LIKE %s", ("%" + _DRILL_USERS,))

    def step(name: str, run: object, runbook_ref: str, stage: str) -> Step[Any]:
        return Step(name, run, runbook_ref, stage)  # type: ignore[arg-type]

    ref = "Suspected Breach / "
    steps = (
        step(
            "kubectl patch deployment backend ... EMERGENCY_MODE=true",
            lambda p: p.set_env("backend", {"EMERGENCY_MODE": "true"}),
            ref + f"{immediate} 1 (Isolate affected systems)",
            immediate,
        ),
        step(
            "kubectl set env deployment/backend TRADING_ENABLED=false",
            lambda p: p.set_env("backend", {"TRADING_ENABLED": "false"}),
            ref + f"{immediate} 2 (Stop all trading activities)",
            immediate,
        ),
        step(
            "kubectl logs / get events > incident-*.log",
            capture_evidence,
            ref + f"{immediate} 3 (Capture evidence)",
            immediate,
        ),
        step("notify the security team", notify, ref + f"{immediate} 4", immediate),
        step(
            "SELECT * FROM audit_logs WHERE created_at > NOW() - INTERVAL '24 hours'",
            audit,
            ref + f"{investigation} 1 (Check for unauthorized access)",
            investigation,
        ),
        step(
            "kubectl logs deployment/backend | grep -E '(401|403|suspicious|unauthorized)'",
            api_access,
            ref + f"{investigation} 2 (Review API access logs)",
            investigation,
        ),
        step(
            "SELECT COUNT(*) FROM users; SELECT COUNT(*) FROM trade_executions;",
            exfiltration,
            ref + f"{investigation} 3 (Check for data exfiltration)",
            investigation,
        ),
        step(
            "netstat -an | grep ESTABLISHED",
            connections,
            ref + f"{investigation} 4 (Analyze network traffic)",
            investigation,
        ),
        step(
            "rotate exchange-api-secrets (new keys at both exchanges, old ones revoked)",
            rotate_all,
            ref + f"{containment} 1-2 (Rotate all secrets, update API keys)",
            containment,
        ),
        step(
            "UPDATE users SET password_reset_required = true;",
            force_reset,
            ref + f"{containment} 3 (Force password reset)",
            containment,
        ),
        step(
            "kubectl set env deployment/backend MFA_REQUIRED=true SESSION_TIMEOUT=300",
            lambda p: p.set_env("backend", {"MFA_REQUIRED": "true", "SESSION_TIMEOUT": "300"}),
            ref + f"{containment} 4 (Enable additional security measures)",
            containment,
        ),
    )
    return Drill(
        "suspected-breach",
        "Suspected Breach",
        Intrusion(),
        (NoIntrusionTraces(), ServiceHealthy("backend")),
        steps,
        (
            *windows,
            # contained = recovered: the last window bounds the whole response
            Budget("time_to_recover", max(b.seconds for b in windows), windows[-1].source),
        ),
        (Invariant("evidence captured", _evidence_written),),
        "an intruder's traces in the audit log; isolate, stop trading, capture evidence, "
        "investigate, rotate secrets, force password resets, MFA on",
        setup=(Step("remember the exchange keys; users to protect", remember),),
        teardown=(Step("back to normal: keys, flags, drill users", restore),),
        recovered_when=(contained,),
    )


def _evidence_written(platform: DockerPlatform) -> Check:
    folder = platform.evidence_dir
    names = sorted(p.name for p in folder.iterdir()) if folder and folder.is_dir() else []
    wanted = ("incident-logs-", "audit-logs-24h", "security-analysis", "established-")
    missing = [w for w in wanted if not any(n.startswith(w) for n in names)]
    return Check(not missing, f"evidence files: {names}; missing: {missing}")

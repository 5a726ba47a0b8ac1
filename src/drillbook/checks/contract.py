"""HTTP calls, ports, variables and backup files of the runbook against the stack's contract;
exchange URLs against the fake exchange's routes (never the internet)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from drillbook.checks._contract import Contract, exchange_routes
from drillbook.checks._doc import RunbookDoc, segments
from drillbook.checks._finding import Finding
from drillbook.checks._manifests import Inventory
from drillbook.checks.commands import exec_targets
from drillbook.checks.kubectl import kubectl_calls
from drillbook.runbook import Command

__all__ = ["Curl", "check_contract", "curls"]

_BACKUP_FILE = re.compile(r"/?backups/([A-Za-z0-9<>._-]+?)\.sql\.gz")
_FRONTEND_ENV = re.compile(r"environ\.get\(\s*\"([A-Z_]+)\"")


@dataclass(frozen=True)
class Curl:
    """A curl of the runbook: where it runs (a lab service, or None: the operator's machine)."""

    command: Command
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None
    runs_in: str | None


def curls(doc: RunbookDoc) -> list[Curl]:
    out: list[Curl] = []
    where = {t.command.line: t.service for t in exec_targets(doc)}
    for command in doc.commands():
        argv = list(command.argv)
        if "curl" not in argv or command.http is None:
            continue
        runs_in = where.get(command.line)
        tail = argv[argv.index("curl") + 1 :]
        headers = tuple(
            (h.split(":", 1)[0].strip(), h.split(":", 1)[1].strip())
            for i, h in enumerate(tail[1:])
            if tail[i] == "-H" and ":" in h
        )
        out.append(
            Curl(
                command, command.http.method, command.http.url, headers, command.http.body, runs_in
            )
        )
    return out


class _Contract:
    def __init__(self, doc: RunbookDoc, contract: Contract) -> None:
        self.doc = doc
        self.contract = contract
        self.routes = exchange_routes()
        self.out: list[Finding] = []

    def add(self, command: Command, code: str, sev: str, msg: str, hint: str, subject: str) -> None:
        self.out.append(
            self.doc.finding("contract", code, sev, command, msg, hint=hint, subject=subject)
        )

    def port(self, command: Command, host: str, port: int, runs_in: str | None) -> str | None:
        service = runs_in if host in ("localhost", "127.0.0.1") else self.contract.service_of(host)
        if service is None:
            self.add(
                command,
                "contract.unknown-host",
                "error",
                f"{host}: no service of the stack's contract answers to that name",
                "the contract's names: " + ", ".join(sorted({n for n, _ in self.contract.names})),
                host,
            )
            return None
        ports = self.contract.ports_of(service)
        if ports and port not in ports:
            self.add(
                command,
                "contract.unknown-port",
                "error",
                f"{host}:{port}: {service} listens on {', '.join(map(str, ports))}, not {port}",
                f"use {service}'s port from fixtures/stack/CONTRACT.md",
                f"{host}:{port}",
            )
            return None
        return service

    def curl(self, curl: Curl) -> None:
        parts = urlsplit(curl.url)
        host = parts.hostname or ""
        if host in self.routes:
            self.exchange(curl, host, parts.path, parts.query)
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        service = self.port(curl.command, host, port, curl.runs_in)
        if service is None:
            return
        if (curl.method, port, parts.path) not in self.contract.endpoints:
            served = sorted(
                f"{m} :{p}{path}" for m, p, path in self.contract.endpoints if p == port
            )
            self.add(
                curl.command,
                "contract.unknown-endpoint",
                "error",
                f"{curl.method} :{port}{parts.path} is no endpoint of {service}",
                "it serves: " + ", ".join(served),
                f"{curl.method} {parts.path}",
            )
        if curl.body is not None:
            try:
                json.loads(curl.body)
            except json.JSONDecodeError as exc:
                self.add(
                    curl.command,
                    "contract.bad-body",
                    "error",
                    f"the request body is not JSON: {exc}",
                    "send a JSON object",
                    "body",
                )

    def exchange(self, curl: Curl, host: str, path: str, query: str) -> None:
        routes = self.routes[host]
        route = next(
            (
                r
                for r in routes
                if r.method == curl.method
                and (path.startswith(r.path) if r.prefix else path == r.path)
            ),
            None,
        )
        if route is None:
            self.add(
                curl.command,
                "contract.unknown-endpoint",
                "error",
                f"{curl.method} {host}{path} is no endpoint of the exchange",
                "see ../shared/specs/exchange-wire.md and src/fake_exchange",
                f"{host}{path}",
            )
            return
        if not route.signed:
            return
        headers = {k.lower() for k, _ in curl.headers}
        if host == "api.binance.com":
            params = parse_qs(query)
            missing = [p for p in ("timestamp", "signature") if p not in params]
            if "x-mbx-apikey" not in headers:
                missing.insert(0, "X-MBX-APIKEY header")
        else:
            missing = [
                h
                for h in ("kc-api-key", "kc-api-sign", "kc-api-timestamp", "kc-api-passphrase")
                if h not in headers
            ]
        if missing:
            self.add(
                curl.command,
                "contract.unsigned-request",
                "error",
                f"{curl.method} {path} is a SIGNED endpoint: the request lacks "
                f"{', '.join(missing)}; the exchange refuses it (Binance: -1022 or -1102)",
                "verify a key with a signed call (ccxt fetch_balance, or the bot's own "
                "/health after the rollout), not a bare curl",
                f"{host}{path}",
            )

    def ports_in_argv(self, command: Command) -> None:
        for seg in segments(command):
            argv = list(seg.argv)
            if seg.argv and seg.argv[0] in ("pg_isready", "psql", "redis-cli") and "-p" in argv:
                host = argv[argv.index("-h") + 1] if "-h" in argv[:-1] else "localhost"
                raw = argv[argv.index("-p") + 1] if argv.index("-p") + 1 < len(argv) else ""
                if raw.isdigit():
                    self.port(command, host, int(raw), None if host != "localhost" else "postgres")

    def variables(
        self, command: Command, deployment: str, names: list[str], frontend: set[str]
    ) -> None:
        known = self.contract.variables if deployment == "backend" else frontend
        for name in names:
            if name not in known:
                self.add(
                    command,
                    "contract.unknown-variable",
                    "warning",
                    f"{deployment} reads no variable {name}: setting it changes nothing "
                    "but restarts the pods",
                    f"the {deployment}'s variables are in fixtures/stack/CONTRACT.md",
                    name,
                )


def _backup_names(inventory: Inventory) -> set[str]:
    """Names the backup job gives its files (``backup create NAME`` -> NAME-<unix-ts>.sql.gz)."""
    names = set()
    for obj in inventory.objects:
        argv = obj.command
        if obj.kind == "CronJob" and "create" in argv and argv.index("create") + 1 < len(argv):
            names.add(argv[argv.index("create") + 1])
    return names


def check_contract(
    doc: RunbookDoc, contract: Contract, inventory: Inventory, stack: Path
) -> list[Finding]:
    checker = _Contract(doc, contract)
    for curl in curls(doc):
        checker.curl(curl)
    for command in doc.commands():
        checker.ports_in_argv(command)
    try:
        frontend_src = (stack / "frontend" / "__main__.py").read_text()
    except OSError:
        frontend_src = ""
    frontend = set(_FRONTEND_ENV.findall(frontend_src))
    for command, _, call in kubectl_calls(doc):
        for target in call.targets:
            if target.kind != "Deployment" or target.name not in ("backend", "frontend"):
                continue
            names: list[str] = []
            if call.verb == "set" and call.sub == "env":
                names = [w.split("=", 1)[0] for w in call.words if "=" in w]
            elif call.verb == "patch" and call.value("patch"):
                try:
                    body = json.loads(call.value("patch") or "")
                    spec = body["spec"]["template"]["spec"]
                    names = [
                        e["name"] for c in spec.get("containers", []) for e in c.get("env", [])
                    ]
                except (json.JSONDecodeError, KeyError, TypeError):
                    names = []
            checker.variables(command, target.name, names, frontend)
    written = _backup_names(inventory)
    for command in doc.commands():
        for match in _BACKUP_FILE.finditer(command.text):
            stem = match.group(1)
            if not any(re.fullmatch(re.escape(n) + r"-(\d+|<[a-z-]+>)", stem) for n in written):
                pattern = ", ".join(f"/backups/{n}-<unix-ts>.sql.gz" for n in sorted(written))
                checker.add(
                    command,
                    "contract.backup-never-written",
                    "error",
                    f"{match.group(0)}: no backup of that name is ever written; the "
                    f"postgres-backup job writes {pattern} (a job's name does not name "
                    "its file)",
                    "pick the file from `restore.sh --list` (newest first)",
                    stem,
                )
    return checker.out

"""Residue: what a run of drills left changed in the lab, against the state it found.

Compared: each service's container state and health, environment (values of secret-looking
variables as hashes, never in clear), memory limit and replicas; the fake exchange's active
faults; the alert rules Prometheus has loaded. Not compared: what the system under test does
by itself while it runs (trades, positions, revisions of rolled-out containers).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from drillbook.environments.docker import DockerLab
from drillbook.errors import DrillbookError, LabError

__all__ = ["lab_state", "residue"]

_SECRET = re.compile(r"KEY|SECRET|PASS|TOKEN|URL|DSN|ACCOUNTS|DATA_SOURCE", re.IGNORECASE)


def _shown(key: str, value: str) -> str:
    if _SECRET.search(key):
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]
    return value


def lab_state(lab: DockerLab) -> dict[str, Any]:
    """A comparable picture of the lab's configuration (safe to print: no secret in clear)."""
    state: dict[str, Any] = {}
    healthy = {row.service: row.healthy for row in lab.status()}
    for name in sorted(lab.services()):
        container = lab.container(name)
        container.reload()
        env = dict(
            item.split("=", 1) for item in container.attrs["Config"]["Env"] or [] if "=" in item
        )
        state[f"service {name}"] = {
            "status": container.status,
            "healthy": healthy.get(name),
            "memory": container.attrs["HostConfig"].get("Memory") or 0,
            "replicas": lab.replicas(name),
            "env": {k: _shown(k, v) for k, v in sorted(env.items())},
        }
    services = lab.services()
    if "exchange" in services:
        from drillbook.faults.exchange import admin_for

        try:
            state["exchange faults"] = sorted(f["kind"] for f in admin_for(lab).faults())
        except Exception as exc:  # an unreachable exchange is itself a difference
            state["exchange faults"] = f"unreadable: {type(exc).__name__}"
    if {"prometheus", "alertmanager", "responder"} <= set(services):
        from drillbook.detection import Detection

        try:
            rules = Detection.for_lab(lab).rules()
            state["alert rules"] = sorted(f"{r.rule.name}: {r.rule.expr}" for r in rules)
        except (DrillbookError, LabError) as exc:
            state["alert rules"] = f"unreadable: {exc}"
    return state


def residue(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """Every difference, one line each: ``service backend env API_RATE_LIMIT_DELAY: absent ->
    '1000'``. Empty when the lab is as it was."""
    lines: list[str] = []
    for key in sorted(set(before) | set(after), key=str):
        where = f"{prefix}{key}"
        a, b = before.get(key, _ABSENT), after.get(key, _ABSENT)
        if isinstance(a, dict) and isinstance(b, dict):
            lines += residue(a, b, f"{where} ")
        elif a != b:
            lines.append(f"{where}: {_fmt(a)} -> {_fmt(b)}")
    return lines


class _Absent:
    def __repr__(self) -> str:
        return "absent"


_ABSENT = _Absent()


def _fmt(value: Any) -> str:
    return repr(value)

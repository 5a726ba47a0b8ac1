"""A baseline of accepted findings: CI fails only on findings that are not in it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from drillbook.checks._finding import Finding
from drillbook.errors import ConfigError

__all__ = ["Accepted", "Baseline"]

VERSION = 1


@dataclass(frozen=True)
class Accepted:
    fingerprint: str
    code: str
    line: int  # where it was when accepted: for people, not for matching
    command: str
    reason: str
    section: str = ""


@dataclass(frozen=True)
class Baseline:
    accepted: tuple[Accepted, ...] = ()

    @classmethod
    def load(cls, path: Path) -> Baseline:
        """Raises ConfigError naming the file and the entry that is not as expected."""
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"baseline {path}: cannot read it: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"baseline {path}: not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("accepted"), list):
            raise ConfigError(
                f'baseline {path}: expected {{"version": {VERSION}, "accepted": [...]}}',
                hint="write one with `drillbook runbook check --write-baseline FILE`",
            )
        entries = []
        for i, entry in enumerate(data["accepted"]):
            if not isinstance(entry, dict):
                raise ConfigError(f"baseline {path}: accepted[{i}] is not an object")
            missing = [k for k in ("fingerprint", "code", "reason") if not entry.get(k)]
            if missing:
                raise ConfigError(
                    f"baseline {path}: accepted[{i}] ({entry.get('code', '?')}) has no "
                    f"{', '.join(missing)}",
                    hint="every accepted finding says why it is accepted (reason)",
                )
            entries.append(
                Accepted(
                    str(entry["fingerprint"]),
                    str(entry["code"]),
                    int(entry.get("line", 0)),
                    str(entry.get("command", "")),
                    str(entry["reason"]),
                    str(entry.get("section", "")),
                )
            )
        return cls(tuple(entries))

    def new(self, findings: Sequence[Finding]) -> list[Finding]:
        known = {a.fingerprint for a in self.accepted}
        return [f for f in findings if f.fingerprint not in known]

    def gone(self, findings: Sequence[Finding]) -> list[Accepted]:
        """Accepted findings no longer reported (fixed, or not checked in this run)."""
        seen = {f.fingerprint for f in findings}
        return [a for a in self.accepted if a.fingerprint not in seen]

    @staticmethod
    def write(path: Path, findings: Sequence[Finding], previous: Baseline | None = None) -> None:
        """Every finding accepted, beside ``previous``'s entries (kept with their reasons:
        a run with another --env does not see them all; fixed ones are removed by hand)."""
        kept = {a.fingerprint: a for a in (previous.accepted if previous else ())}
        entries = {
            a.fingerprint: {
                "fingerprint": a.fingerprint,
                "code": a.code,
                "line": a.line,
                "section": a.section,
                "command": a.command,
                "reason": a.reason,
            }
            for a in kept.values()
        }
        for f in findings:
            entries[f.fingerprint] = {
                "fingerprint": f.fingerprint,
                "code": f.code,
                "line": f.line,
                "section": " / ".join(f.section),
                "command": f.command,
                "reason": kept[f.fingerprint].reason
                if f.fingerprint in kept
                else "TODO: say why this is accepted",
            }
        ordered = sorted(entries.values(), key=lambda e: (int(str(e["line"])), str(e["code"])))
        path.write_text(json.dumps({"version": VERSION, "accepted": ordered}, indent=2) + "\n")

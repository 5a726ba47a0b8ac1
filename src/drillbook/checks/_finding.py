"""A finding: one thing in the runbook that does not work as written, with where and why."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["SEVERITIES", "Finding"]

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Finding:
    """``code`` is ``family.what`` (``sql.undefined-column``); ``subject`` the thing at fault
    (a column, a namespace, a placeholder) so two findings on one command stay apart."""

    check: str  # coverage | sql | kubectl | contract | commands
    code: str
    severity: str  # error | warning
    section: tuple[str, ...]
    line: int
    command: str
    message: str
    hint: str = ""
    subject: str = ""

    @property
    def fingerprint(self) -> str:
        """Stable across unrelated edits: no line number, only what and where by name."""
        key = "\x1f".join((self.code, " / ".join(self.section), self.command, self.subject))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def where(self) -> str:
        return " / ".join(self.section) or "(the runbook as a whole)"

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "code": self.code,
            "severity": self.severity,
            "section": list(self.section),
            "line": self.line,
            "command": self.command,
            "message": self.message,
            "hint": self.hint,
            "subject": self.subject,
            "fingerprint": self.fingerprint,
        }

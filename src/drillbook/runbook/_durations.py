"""Times in the runbook's prose: "< 2 minutes", "within 10 minutes", "< 1 hour", "T-24 hours"."""

from __future__ import annotations

import re

__all__ = ["UNITS", "find_duration", "parse_duration"]

UNITS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400}
_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)\s*(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\b", re.I
)


def parse_duration(text: str) -> float | None:
    """Seconds of the first duration in ``text``; None when there is none."""
    match = _DURATION.search(text)
    if match is None:
        return None
    unit = match.group(2).lower().rstrip("s") or "s"
    unit = {"sec": "second", "min": "minute", "hr": "hour"}.get(unit, unit)
    return float(match.group(1)) * UNITS[unit]


def find_duration(text: str) -> tuple[float, str] | None:
    """The first duration and the phrase it was found in."""
    match = _DURATION.search(text)
    if match is None:
        return None
    seconds = parse_duration(match.group(0))
    return (seconds, match.group(0)) if seconds is not None else None

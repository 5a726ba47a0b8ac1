"""Chaos Toolkit journals converted into drillbook's journal shape (a timeline of activities)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["convert_chaos_journal"]


def _ts(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def convert_chaos_journal(path: Path) -> dict[str, Any]:
    """Read a ``chaos run`` journal and return a drillbook drill entry."""
    data = json.loads(Path(path).read_text())
    experiment = data.get("experiment", {})
    runs = list(data.get("run", []))
    steady = data.get("steady_states") or {}
    for key in ("before", "after"):
        runs += (steady.get(key) or {}).get("probes", [])
    runs += data.get("rollbacks", [])
    start = _ts(data.get("start")) or 0.0
    timeline = []
    for entry in sorted(runs, key=lambda r: _ts(r.get("start")) or 0.0):
        act = entry.get("activity", {})
        began, ended = _ts(entry.get("start")), _ts(entry.get("end"))
        timeline.append(
            {
                "phase": f"{act.get('type', 'activity')}:{act.get('name', '?')}",
                "t_s": round((began or start) - start, 3),
                "duration_s": round((ended or began or start) - (began or start), 3),
                "status": entry.get("status"),
                "output": entry.get("output")
                if isinstance(entry.get("output"), (int, float, bool, str))
                else None,
            }
        )
    tags = experiment.get("tags") or []
    return {
        "drill": experiment.get("title", "?"),
        "alert": next((t for t in tags if t[:1].isupper()), ""),
        "outcome": "passed"
        if data.get("status") == "completed" and not data.get("deviated")
        else "failed",
        "source": "chaostoolkit",
        "status": data.get("status"),
        "deviated": bool(data.get("deviated")),
        "wall_s": round(float(data.get("duration") or 0.0), 3),
        "timeline": timeline,
    }

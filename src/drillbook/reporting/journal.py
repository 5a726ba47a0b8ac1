"""The JSON journal of a run: reports/<run-id>/journal.json, rewritten after every drill."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from drillbook.reporting._events import DrillLike, RunEventHandler
from drillbook.reporting._health import HealthLog
from drillbook.sla import DrillResult

__all__ = ["JsonJournal", "journal_entry"]


def journal_entry(result: DrillResult, health: HealthLog | None = None) -> dict[str, Any]:
    """One drill of the journal: times relative to its first mark (``t_s``), health as
    transitions only (``"health": [{"t_s", "ok", "detail"}]``)."""
    first = result.marks[0].at if result.marks else 0.0
    return {
        "drill": result.drill,
        "alert": result.alert,
        "outcome": result.outcome,
        "error": result.error,
        "wall_s": round(result.wall_s, 3),
        "measured_s": result.measured,
        "steps_s": {k: round(v, 3) for k, v in result.steps.items()},
        "budgets": [asdict(b) for b in result.budgets],
        "breaches": [
            {
                "measure": b.budget.measure,
                "observed_s": round(b.observed_s, 3),
                "budget_s": b.budget.seconds,
                "reached": b.reached,
            }
            for b in result.breaches
        ],
        "timeline": [
            {
                "phase": m.phase.value,
                "t_s": round(m.at - first, 3),
                "wall": m.wall,
                "detail": m.detail,
                "step": m.step,
                "actor": m.actor,
            }
            for m in result.marks
        ],
        "health": health.transitions(result.drill, first) if health and result.marks else [],
        # game days: notes by people (t_s on the timeline's clock) and who played each role
        "notes": [
            {"t_s": round(n.at - first, 3), "wall": n.wall, "by": n.by, "text": n.text}
            for n in result.notes
        ],
        "roles": dict(result.roles),
        "reverted": result.reverted,
        "steady_after": result.steady_after,
    }


class JsonJournal(RunEventHandler):
    """Writes the run's journal; rewritten after each drill so a killed run keeps its evidence."""

    def __init__(self, directory: Path, run_id: str, profile: str) -> None:
        self.path = Path(directory) / run_id / "journal.json"
        self.health_log = HealthLog()
        self.data: dict[str, Any] = {
            "run_id": run_id,
            "profile": profile,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "drills": [],
        }

    def run_started(self, run_id: str, profile: str) -> None:
        self._write()

    def drill_started(self, drill: DrillLike) -> None:
        self.health_log.reset(drill.name)

    def health(self, drill: DrillLike, at: float, ok: bool, detail: str) -> None:
        self.health_log.add(drill.name, at, ok, detail)

    def drill_finished(self, drill: DrillLike, result: DrillResult) -> None:
        self.data["drills"].append(journal_entry(result, self.health_log))
        self._write()

    def add(self, key: str, value: object) -> None:
        """A top-level section of the journal (a game day's plan and roles); written at once."""
        self.data[key] = value
        self._write()

    def run_finished(self, results: list[DrillResult]) -> None:
        self.data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.data["passed"] = all(r.passed for r in results)
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, default=str) + "\n")
        tmp.replace(self.path)

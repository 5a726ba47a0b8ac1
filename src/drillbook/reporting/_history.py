"""The history of runs: reports/history.jsonl, one JSON object per run, appended at its end.

The reader is tolerant (blank lines, unknown fields and missing optional ones are fine) but a
line that is not a run record is an error naming the file and the line: a history that silently
lost runs would hide the very regressions it is kept for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drillbook.errors import ConfigError
from drillbook.reporting._events import RunEventHandler
from drillbook.reporting.journal import JsonJournal
from drillbook.sla import DrillResult

__all__ = [
    "DrillRecord",
    "RunHistory",
    "RunRecord",
    "append_run",
    "git_commit",
    "read_history",
    "record_of",
]


@dataclass(frozen=True)
class DrillRecord:
    drill: str
    outcome: str
    alert: str = ""
    mttd_s: float | None = (
        None  # time_to_alert when the drill awaited its alert, else time_to_detect
    )
    mttr_s: float | None = None  # time_to_recover
    wall_s: float = 0.0
    measured: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    started: str
    profile: str = ""
    env: str = ""
    commit: str | None = None
    drills: tuple[DrillRecord, ...] = ()
    project: str = ""  # the drill project's name ("" for drillbook's reference stack)

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["drills"] = [{**asdict(d), "measured": dict(d.measured)} for d in self.drills]
        return json.dumps(data, sort_keys=False, separators=(",", ":"))


def record_of(journal: Mapping[str, Any], env: str = "", commit: str | None = None) -> RunRecord:
    """A run's history record from its journal data (``JsonJournal.data`` or journal.json)."""
    drills = []
    for entry in journal.get("drills", []):
        measured = {str(k): float(v) for k, v in (entry.get("measured_s") or {}).items()}
        drills.append(
            DrillRecord(
                drill=str(entry["drill"]),
                outcome=str(entry["outcome"]),
                alert=str(entry.get("alert", "")),
                mttd_s=measured.get("time_to_alert", measured.get("time_to_detect")),
                mttr_s=measured.get("time_to_recover"),
                wall_s=float(entry.get("wall_s", 0.0)),
                measured=measured,
            )
        )
    return RunRecord(
        run_id=str(journal["run_id"]),
        started=str(journal.get("started", "")),
        profile=str(journal.get("profile", "")),
        env=env,
        commit=commit,
        drills=tuple(drills),
        project=str(journal.get("project", "")),
    )


def append_run(path: Path, record: RunRecord) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(record.to_json() + "\n")


def _number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number of seconds or null, found {value!r}")
    return float(value)


def _drill(data: object, where: str) -> DrillRecord:
    if not isinstance(data, dict) or not isinstance(data.get("drill"), str):
        raise ConfigError(f"{where}: expected an object with a string 'drill'")
    if not isinstance(data.get("outcome"), str):
        raise ConfigError(f"{where}: drill {data['drill']!r} has no string 'outcome'")
    measured = data.get("measured") or {}
    if not isinstance(measured, dict):
        raise ConfigError(f"{where}.measured: expected an object of seconds")
    return DrillRecord(
        drill=data["drill"],
        outcome=data["outcome"],
        alert=str(data.get("alert", "")),
        mttd_s=_number(data.get("mttd_s"), f"{where}.mttd_s"),
        mttr_s=_number(data.get("mttr_s"), f"{where}.mttr_s"),
        wall_s=_number(data.get("wall_s", 0.0), f"{where}.wall_s") or 0.0,
        measured={
            str(k): v
            for k, v in ((k, _number(v, f"{where}.measured.{k}")) for k, v in measured.items())
            if v is not None
        },
    )


def read_history(path: Path) -> list[RunRecord]:
    """Every run in ``path``, oldest first (the file's order). A missing file is no runs."""
    path = Path(path)
    if not path.exists():
        return []
    runs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{where}: not a JSON run record ({exc.msg} at column {exc.colno})",
                hint="a run killed while appending leaves half a line: delete that line",
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("run_id"), str):
            raise ConfigError(f"{where}: expected a JSON object with a string 'run_id'")
        drills = data.get("drills", [])
        if not isinstance(drills, list):
            raise ConfigError(f"{where}: 'drills' must be a list")
        runs.append(
            RunRecord(
                run_id=data["run_id"],
                started=str(data.get("started", "")),
                profile=str(data.get("profile", "")),
                env=str(data.get("env", "")),
                commit=data.get("commit") if isinstance(data.get("commit"), str) else None,
                drills=tuple(_drill(d, f"{where} drills[{i}]") for i, d in enumerate(drills)),
                project=str(data.get("project", "")),
            )
        )
    return runs


def git_commit(cwd: Path | None = None) -> str | None:
    """The checked-out commit, when drillbook runs inside a git work tree; None otherwise."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


class RunHistory(RunEventHandler):
    """Appends the run to ``path`` (reports/history.jsonl) at its end, from the journal's data;
    place it after the ``JsonJournal``. A run that ran no drill adds nothing."""

    def __init__(
        self, journal: JsonJournal, path: Path, *, env: str = "", commit: str | None = None
    ) -> None:
        self.journal = journal
        self.path = Path(path)
        self.env = env
        self.commit = commit

    def run_finished(self, results: list[DrillResult]) -> None:
        if not self.journal.data.get("drills"):
            return
        try:
            append_run(self.path, record_of(self.journal.data, self.env, self.commit))
        except (OSError, KeyError, TypeError, ValueError) as exc:  # never stop the teardown
            print(f"drillbook: history not appended to {self.path}: {exc}", file=sys.stderr)

"""HTML reports: a self-contained page per run (timelines, SLA tables, steps, evidence, game-day
notes) rendered from journal.json, and the trends page across runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from drillbook.reporting._events import RunEventHandler
from drillbook.reporting.html._model import (
    DrillView,
    RunView,
    SlaRow,
    drill_from_entry,
    load_run,
    run_from_data,
)
from drillbook.reporting.html._page import evidence_of, render_run, residue_of
from drillbook.reporting.html._svg import timeline_svg
from drillbook.reporting.html._trends import render_trends, trend_svg
from drillbook.reporting.journal import JsonJournal
from drillbook.sla import DrillResult

__all__ = [
    "DrillView",
    "HtmlReport",
    "RunView",
    "SlaRow",
    "drill_from_entry",
    "load_run",
    "render_run",
    "render_trends",
    "run_from_data",
    "timeline_svg",
    "trend_svg",
    "write_run_html",
]


def write_run_html(run_dir: Path, output: Path | None = None) -> Path:
    """Render ``run_dir/journal.json`` (and its evidence) to ``index.html`` (or ``output``)."""
    run_dir = Path(run_dir)
    if run_dir.name == "journal.json":
        run_dir = run_dir.parent
    run = load_run(run_dir)
    path = Path(output) if output else run_dir / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_run(run, evidence_of(run_dir), residue_of(run_dir)))
    return path


class HtmlReport(RunEventHandler):
    """Writes reports/<run-id>/index.html at the end of a run, from the journal's data; place it
    after the ``JsonJournal`` in the handler list, so the journal is complete."""

    def __init__(self, journal: JsonJournal) -> None:
        self.journal = journal
        self.path: Path | None = None

    def run_finished(self, results: list[DrillResult]) -> None:
        run_dir = self.journal.path.parent
        try:
            data = json.loads(json.dumps(self.journal.data, default=str))
            run = run_from_data(data, str(self.journal.path))
            page = render_run(run, evidence_of(run_dir), residue_of(run_dir))
            run_dir.mkdir(parents=True, exist_ok=True)
            self.path = run_dir / "index.html"
            self.path.write_text(page)
        except Exception as exc:  # the run's teardown comes after: a report bug must not stop it
            self.path = None
            print(
                f"drillbook: HTML report not written ({type(exc).__name__}: {exc}); "
                f"render it later: drillbook report html {run_dir}",
                file=sys.stderr,
            )

"""Allure results: each drill a test, each clock phase and runbook step an Allure step with its
start and stop, the timeline attached as SVG (the HTML report's plot) and as JSON."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    Attachment,
    Label,
    Status,
    StatusDetails,
    TestResult,
    TestStepResult,
)

from drillbook.reporting._events import DrillLike, RunEventHandler
from drillbook.reporting._health import HealthLog
from drillbook.reporting.html import drill_from_entry, timeline_svg
from drillbook.reporting.journal import journal_entry
from drillbook.sla import DrillResult, Phase

__all__ = ["AllureResults"]

_STATUS = {
    "passed": Status.PASSED,
    "breached": Status.FAILED,
    "failed": Status.BROKEN,
    "aborted": Status.SKIPPED,
}


class AllureResults(RunEventHandler):
    """Writes ``<directory>/*-result.json`` for the real Allure command line to render."""

    def __init__(self, directory: Path, profile: str) -> None:
        self.directory = Path(directory)
        self.logger = AllureFileLogger(str(self.directory))  # type: ignore[no-untyped-call]
        self.profile = profile
        self.health_log = HealthLog()

    def run_started(self, run_id: str, profile: str) -> None:
        # the report's Environment widget: which run and profile these results are
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "environment.properties").write_text(
            f"run_id={run_id}\nprofile={profile}\nframework=drillbook\n"
        )

    def drill_started(self, drill: DrillLike) -> None:
        self.health_log.reset(drill.name)

    def health(self, drill: DrillLike, at: float, ok: bool, detail: str) -> None:
        self.health_log.add(drill.name, at, ok, detail)

    def drill_finished(self, drill: DrillLike, result: DrillResult) -> None:
        if not result.marks:
            return
        t0_mono, t0_wall = result.marks[0].at, result.marks[0].wall

        def ms(at: float) -> int:
            return int((t0_wall + (at - t0_mono)) * 1000)

        steps = _phase_steps(result, ms)
        for breach in result.breaches:
            steps.append(
                TestStepResult(
                    name=(
                        f"SLA {breach.budget.measure}: "
                        f"{breach.observed_s:.1f}s > {breach.budget.seconds:.1f}s"
                    ),
                    status=Status.FAILED,
                    start=ms(result.marks[-1].at),
                    stop=ms(result.marks[-1].at),
                )
            )
        test_uuid = str(uuid.uuid4())
        timeline = json.dumps(
            {
                "measured_s": result.measured,
                "budgets": [
                    {"measure": b.measure, "seconds": b.seconds, "source": b.source}
                    for b in result.budgets
                ],
                "timeline": [
                    {
                        "phase": m.phase.value,
                        "t_s": round(m.at - t0_mono, 3),
                        "step": m.step,
                        "detail": m.detail,
                    }
                    for m in result.marks
                ],
            },
            indent=2,
        )
        source = f"{test_uuid}-attachment.json"
        self.logger.report_attached_data(body=timeline, file_name=source)  # type: ignore[no-untyped-call]
        # the same timeline plot as the HTML report's (health, phases, steps, deadlines)
        svg = timeline_svg(drill_from_entry(journal_entry(result, self.health_log)))
        svg_source = f"{test_uuid}-timeline-attachment.svg"
        self.logger.report_attached_data(body=svg, file_name=svg_source)  # type: ignore[no-untyped-call]
        history = hashlib.sha256(f"{result.alert}/{result.drill}".encode()).hexdigest()
        self.logger.report_result(  # type: ignore[no-untyped-call]
            TestResult(
                uuid=test_uuid,
                historyId=history,
                name=result.drill,
                fullName=f"drillbook.{result.alert}.{result.drill}",
                status=_STATUS.get(result.outcome, Status.BROKEN),
                statusDetails=StatusDetails(message=result.error) if result.error else None,
                start=ms(result.marks[0].at),
                stop=ms(result.marks[-1].at),
                steps=steps,
                attachments=[
                    Attachment(name="timeline", source=svg_source, type="image/svg+xml"),
                    Attachment(name="incident timeline", source=source, type="application/json"),
                ],
                labels=[
                    Label(name="feature", value=result.alert),
                    Label(name="suite", value="drills"),
                    Label(name="tag", value=f"profile:{self.profile}"),
                    Label(name="framework", value="drillbook"),
                ],
            )
        )


def _phase_steps(result: DrillResult, ms: Callable[[float], int]) -> list[TestStepResult]:
    """Each phase of the clock a step lasting until the next mark; each runbook step one step
    from its start to its finish (skipped when it needs what the lab lacks)."""
    marks = result.marks
    steps = []
    for i, mark in enumerate(marks):
        if mark.phase == Phase.STEP_FINISHED:
            continue
        status, end, name = Status.PASSED, marks[i + 1].at if i + 1 < len(marks) else mark.at, ""
        if mark.phase == Phase.STEP_STARTED:
            done = next(
                (
                    m
                    for m in marks[i + 1 :]
                    if m.phase == Phase.STEP_FINISHED and m.step == mark.step
                ),
                None,
            )
            end = done.at if done else marks[-1].at
            status = (
                Status.BROKEN
                if done is None
                else Status.SKIPPED
                if done.detail.startswith("skipped")
                else Status.PASSED
            )
            name = f"runbook step: {mark.step}" + (f" ({done.detail})" if done else " (unfinished)")
        else:
            name = mark.phase.value + (f": {mark.step}" if mark.step else "")
            name += f" ({mark.detail})" if mark.detail else ""
        steps.append(TestStepResult(name=name, status=status, start=ms(mark.at), stop=ms(end)))
    return steps

"""Allure results: each drill a test, each clock phase a step, the timeline attached as JSON."""

from __future__ import annotations

import hashlib
import json
import uuid
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
from drillbook.sla import DrillResult

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

    def drill_finished(self, drill: DrillLike, result: DrillResult) -> None:
        if not result.marks:
            return
        t0_mono, t0_wall = result.marks[0].at, result.marks[0].wall

        def ms(at: float) -> int:
            return int((t0_wall + (at - t0_mono)) * 1000)

        steps = []
        for i, mark in enumerate(result.marks):
            end = result.marks[i + 1].at if i + 1 < len(result.marks) else mark.at
            label = mark.phase.value + (f": {mark.step}" if mark.step else "")
            steps.append(
                TestStepResult(
                    name=label + (f" ({mark.detail})" if mark.detail else ""),
                    status=Status.PASSED,
                    start=ms(mark.at),
                    stop=ms(end),
                )
            )
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
                    Attachment(name="incident timeline", source=source, type="application/json")
                ],
                labels=[
                    Label(name="feature", value=result.alert),
                    Label(name="suite", value="drills"),
                    Label(name="tag", value=f"profile:{self.profile}"),
                    Label(name="framework", value="drillbook"),
                ],
            )
        )

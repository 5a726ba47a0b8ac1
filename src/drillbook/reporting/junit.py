"""JUnit XML for CI: one testcase per drill; a breach is a failure, a crash an error."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from drillbook.reporting._events import RunEventHandler
from drillbook.sla import DrillResult

__all__ = ["JUnitXml"]


class JUnitXml(RunEventHandler):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def run_finished(self, results: list[DrillResult]) -> None:
        suite = ET.Element(
            "testsuite",
            name="drillbook",
            tests=str(len(results)),
            failures=str(sum(r.outcome == "breached" for r in results)),
            errors=str(sum(r.outcome in ("failed", "aborted") for r in results)),
            time=f"{sum(r.wall_s for r in results):.3f}",
        )
        for r in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"drillbook.{r.alert}",
                name=r.drill,
                time=f"{r.wall_s:.3f}",
            )
            if r.outcome == "breached":
                ET.SubElement(
                    case, "failure", message=r.error.splitlines()[0] if r.error else "SLA breached"
                ).text = r.error
            elif r.outcome != "passed":
                ET.SubElement(case, "error", message=r.outcome).text = r.error
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(f"{k}: {v:.3f}s" for k, v in r.measured.items())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(suite).write(self.path, encoding="utf-8", xml_declaration=True)

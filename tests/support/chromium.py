"""The report pages in headless Chromium (drillbook's launcher, ``HeadlessChromium``): the DOM
and screenshots the report tests look at, and what they read from them."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from drillbook.reporting import HeadlessChromium

__all__ = ["SCREENSHOTS", "PageFacts", "dump_dom", "expected_verdicts", "page_facts", "screenshot"]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"


def dump_dom(page: Path) -> str:
    """The DOM after the page's scripts ran (its onload image check included)."""
    return HeadlessChromium().dump_dom(page)


def screenshot(page: Path, name: str, height: int = 3000) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = HeadlessChromium().screenshot(page, SCREENSHOTS / name, height=height)
    assert path.stat().st_size > 10_000, f"{path}: an empty screenshot"
    return path


class PageFacts(HTMLParser):
    """What the tests read from a dumped report DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.drills: dict[str, str] = {}  # drill -> data-outcome
        self.verdicts: dict[tuple[str, str], str] = {}  # (drill, measure) -> data-verdict
        self.images = 0
        self._drill = ""
        self._measure = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = a
        elif tag == "section" and "data-drill" in a:
            self._drill = a["data-drill"]
            self.drills[self._drill] = a["data-outcome"]
        elif tag == "tr" and "data-measure" in a:
            self._measure = a["data-measure"]
        elif tag == "td" and "data-verdict" in a:
            self.verdicts[(self._drill, self._measure)] = a["data-verdict"]
        elif tag == "img" and "timeline" in a.get("class", ""):
            self.images += 1


def page_facts(dom: str) -> PageFacts:
    facts = PageFacts()
    facts.feed(dom)
    return facts


def expected_verdicts(journal: dict[str, object]) -> dict[tuple[str, str], str]:
    """The SLA verdicts worked out from the journal alone (not from the page's code)."""
    found = {}
    for entry in journal["drills"]:  # type: ignore[attr-defined]
        breached = {b["measure"] for b in entry["breaches"]}
        for budget in entry["budgets"]:
            measure = budget["measure"]
            observed = entry["measured_s"].get(measure)
            if measure in breached:
                verdict = "fail"
            elif observed is None:
                verdict = "not reached"
            else:
                verdict = "pass" if observed <= budget["seconds"] else "fail"
            found[(entry["drill"], measure)] = verdict
    return found

"""The HTML report in headless Chromium: a synthetic run with a passed and a breached drill
(the real run's page is checked in test_reports_docker.py)."""

from __future__ import annotations

from pathlib import Path

from drillbook.reporting import write_run_html
from support.chromium import dump_dom, expected_verdicts, page_facts, screenshot
from support.journals import load, write_journal


def test_passed_and_breached_drills_render_with_their_verdicts(tmp_path: Path) -> None:
    journal = write_journal(
        tmp_path,
        "run-synthetic",
        {"steps": (("rollout restart deployment/backend", 1.3), ("check logs", 0.4))},
        {"name": "backend-hung", "recovered": False},
    )
    page = write_run_html(journal.parent)
    facts = page_facts(dump_dom(page))
    assert facts.body.get("data-run") == "run-synthetic"
    assert facts.images == 2
    assert facts.body.get("data-images-loaded") == "2/2"  # the page's onload check
    assert facts.body.get("data-images-ok") == "true"
    assert facts.drills == {"backend-killed": "passed", "backend-hung": "breached"}
    assert facts.verdicts == expected_verdicts(load(journal))
    assert facts.verdicts[("backend-hung", "time_to_recover")] == "fail"
    assert facts.verdicts[("backend-killed", "time_to_recover")] == "pass"
    screenshot(page, "synthetic-passed-and-breached.png", height=2600)


def test_a_broken_image_is_reported_by_the_page(tmp_path: Path) -> None:
    journal = write_journal(tmp_path, "run-broken", {})
    page = write_run_html(journal.parent)
    html = page.read_text()
    start = html.index("data:image/svg+xml;base64,") + len("data:image/svg+xml;base64,")
    page.write_text(
        html[:start] + "bm90IGFuIFNWRw==" + html[html.index('"', start) :]
    )  # "not an SVG"
    facts = page_facts(dump_dom(page))
    assert facts.body.get("data-images-loaded") == "0/1"
    assert facts.body.get("data-images-ok") == "false"

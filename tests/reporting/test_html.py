"""The run page rendered from journal.json: SLA verdicts, timelines, escaping, old journals."""

from __future__ import annotations

import base64
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drillbook.errors import ConfigError
from drillbook.reporting import write_run_html
from drillbook.reporting.html import drill_from_entry, load_run, timeline_svg
from support.journals import load, write_journal

SVG = "{http://www.w3.org/2000/svg}"
BREACHED = {"name": "backend-hung", "recovered": False}


def _journal(tmp_path: Path) -> Path:
    return write_journal(tmp_path, "run-1", {}, BREACHED)


def _svgs(page: str) -> list[ET.Element]:
    uris = re.findall(r'<img class="timeline"[^>]*src="data:image/svg\+xml;base64,([^"]+)"', page)
    return [ET.fromstring(base64.b64decode(u)) for u in uris]


def test_sla_rows_match_the_journal(tmp_path: Path) -> None:
    run = load_run(_journal(tmp_path).parent)
    passed, breached = run.drills
    assert {r.measure: r.verdict for r in passed.sla_rows()} == {
        "time_to_detect": "pass",
        "time_to_alert": "pass",
        "time_to_respond": "pass",
        "time_to_recover": "pass",
    }
    rows = {r.measure: r for r in breached.sla_rows()}
    assert rows["time_to_recover"].verdict == "fail"
    assert not rows["time_to_recover"].reached
    assert rows["time_to_recover"].observed_s == pytest.approx(23.5)
    assert rows["time_to_alert"].verdict == "pass"


def test_the_page_has_a_timeline_per_drill_and_the_verdicts(tmp_path: Path) -> None:
    path = write_run_html(_journal(tmp_path).parent)
    page = path.read_text()
    assert path == tmp_path / "run-1" / "index.html"
    svgs = _svgs(page)
    assert len(svgs) == 2
    for svg in svgs:
        assert float(svg.attrib["width"]) > 0
        assert float(svg.attrib["height"]) > 0
    cells = re.findall(r'<tr data-measure="([^"]+)">.*?data-verdict="([^"]+)"', page)
    assert cells.count(("time_to_recover", "pass")) == 1
    assert cells.count(("time_to_recover", "fail")) == 1
    assert "never reached (waited 23.5 s)" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # offline
    assert "<script src" not in page
    assert "<link" not in page


def test_a_breached_deadline_is_drawn_red_and_a_kept_one_is_not(tmp_path: Path) -> None:
    data = load(_journal(tmp_path))
    passed, breached = (drill_from_entry(d) for d in data["drills"])
    for drill, color in ((passed, "#5f6f82"), (breached, "#d0021b")):
        svg = ET.fromstring(timeline_svg(drill))
        [fill] = [
            t.attrib["fill"]
            for t in svg.iter(f"{SVG}text")
            if t.text and t.text.startswith("recover ≤ 22.5s")
        ]
        assert fill == color
    breach_lines = [
        line
        for line in ET.fromstring(timeline_svg(breached)).iter(f"{SVG}line")
        if line.attrib.get("stroke") == "#d0021b" and line.attrib.get("stroke-dasharray") == "5,3"
    ]
    assert len(breach_lines) == 1
    # at the fault in effect (1 s) plus the budget (22.5 s), on a scale to the revert (24.5 s)
    x = float(breach_lines[0].attrib["x1"])
    assert x == pytest.approx(118 + 23.5 / (24.5 * 1.03) * (1000 - 118 - 28), abs=0.2)


def test_health_band_shows_the_failing_stretch(tmp_path: Path) -> None:
    data = load(_journal(tmp_path))
    [h0, h1, h2] = data["drills"][0]["health"]
    assert (h0["ok"], h1["ok"], h2["ok"]) == (True, False, True)
    assert h1["t_s"] == 1.0  # from the fault in effect
    svg = ET.fromstring(timeline_svg(drill_from_entry(data["drills"][0])))
    titles = [
        title.text
        for r in svg.iter(f"{SVG}rect")
        if r.attrib.get("fill") == "#d64541" and (title := r.find(f"{SVG}title")) is not None
    ]
    assert titles == ["failing: backend: refused"]


def test_journal_text_is_escaped(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    data = load(path)
    data["drills"][1]["error"] = "<script>alert(1)</script> & more"
    data["drills"][1]["timeline"][3]["detail"] = "<img src=x onerror=alert(2)>"
    path.write_text(json.dumps(data))
    page = write_run_html(path.parent).read_text()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<img src=x" not in page
    for svg in _svgs(page):
        assert svg.find(f".//{SVG}script") is None


def test_an_old_journal_without_health_or_notes_renders(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    data = load(path)
    for entry in data["drills"]:
        del entry["health"]
    path.write_text(json.dumps(data))
    page = write_run_html(path.parent).read_text()
    assert (
        "no health samples in this journal"
        in base64.b64decode(re.findall(r"base64,([^\"]+)", page)[0]).decode()
    )


def test_game_day_notes_and_roles_are_rendered(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    data = load(path)
    data["drills"][0]["notes"] = [
        {"t_s": 3.0, "wall": 1.0, "by": "alice", "text": "paged <on-call>"},
        {"t_s": 1.5, "wall": 1.0, "by": "bob", "text": "alert seen"},
    ]
    data["drills"][0]["roles"] = {"incident commander": "alice", "scribe": "bob"}
    path.write_text(json.dumps(data))
    page = write_run_html(path.parent).read_text()
    assert "Game-day notes" in page
    assert page.index("alert seen") < page.index("paged &lt;on-call&gt;")  # in time order
    assert "T+0.5 s" in page  # 1.5 s after the first mark, the fault took effect at 1 s
    assert "<dt>incident commander</dt><dd>alice</dd>" in page
    notes = [
        t.text
        for t in _svgs(page)[0].iter(f"{SVG}text")
        if t.attrib.get("fill") == "#8a5a00"  # the timeline's notes row
    ]
    assert notes == ["bob: alert seen", "alice: paged <on-call>"]


def test_evidence_is_inlined_escaped_and_placed_with_its_drill(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    evidence = path.parent / "evidence"
    evidence.mkdir()
    (evidence / "incident-logs.log").write_text("line <1>\npassword=[REDACTED]\n")
    first = load(path)["drills"][0]["timeline"]
    mid = (first[0]["wall"] + first[-1]["wall"]) / 2
    os.utime(evidence / "incident-logs.log", (mid, mid))
    (evidence / "later.txt").write_text("run level")
    page = write_run_html(path.parent).read_text()
    first_drill = page[
        page.index('id="drill-backend-killed"') : page.index('id="drill-backend-hung"')
    ]
    assert 'href="evidence/incident-logs.log"' in first_drill
    assert "line &lt;1&gt;" in first_drill
    assert "Run evidence" in page
    assert page.index("Run evidence") < page.index("run level")


def test_a_bad_field_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    data = load(path)
    data["drills"][1]["budgets"][2]["seconds"] = "thirty"
    path.write_text(json.dumps(data))
    with pytest.raises(
        ConfigError, match=r"journal\.json\.drills\[1\]\.budgets\[2\]\.seconds: expected a number"
    ):
        load_run(path.parent)


def test_a_missing_journal_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"(?s)no journal at .*Hint: pass a run directory"):
        load_run(tmp_path)
    (tmp_path / "journal.json").write_text("{\n  nope")
    with pytest.raises(ConfigError, match=r"journal\.json:2: not valid JSON"):
        load_run(tmp_path)


def test_a_drill_that_never_reached_steady_state_renders(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    data = load(path)
    data["drills"].append(
        {
            "drill": "never-steady",
            "alert": "TradingBotDown",
            "outcome": "failed",
            "error": "WaitTimeout: steady state before the drill",
            "wall_s": 30.0,
            "measured_s": {},
            "steps_s": {},
            "budgets": [{"measure": "time_to_recover", "seconds": 90, "source": "ci"}],
            "breaches": [],
            "timeline": [],
            "health": [],
            "reverted": False,
            "steady_after": False,
        }
    )
    path.write_text(json.dumps(data))
    page = write_run_html(path.parent).read_text()
    assert len(_svgs(page)) == 3
    section = page[page.index('data-drill="never-steady"') :]
    assert 'data-verdict="not reached"' in section
    assert "no runbook steps ran" in section


def test_the_handler_writes_the_page_and_never_raises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from drillbook.reporting import HtmlReport, JsonJournal

    journal = JsonJournal(tmp_path, "run-h", "ci")
    journal.data = load(_journal(tmp_path))
    report = HtmlReport(journal)
    report.run_finished([])
    assert report.path == tmp_path / "run-h" / "index.html"
    assert report.path.read_text().count('<img class="timeline"') == 2
    journal.data["drills"][0]["budgets"] = "not a list"
    report.run_finished([])  # the run's teardown comes after it: a report bug must not stop it
    assert report.path is None
    err = capsys.readouterr().err
    assert "HTML report not written" in err
    assert "drillbook report html" in err


def test_public_names_resolve() -> None:
    import drillbook.reporting
    import drillbook.reporting.html

    for module in (drillbook.reporting, drillbook.reporting.html):
        for name in module.__all__:
            assert getattr(module, name) is not None, name


def test_the_lab_residue_is_shown(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    page = write_run_html(path.parent).read_text()
    assert "not checked" in page
    (path.parent / "residue.json").write_text(json.dumps({"residue": []}))
    assert '<div class="value ok">none</div>' in write_run_html(path.parent).read_text()
    change = "service backend env API_RATE_LIMIT_DELAY: absent -> '1000'"
    (path.parent / "residue.json").write_text(json.dumps({"residue": [change]}))
    page = write_run_html(path.parent).read_text()
    assert '<div class="value bad">1 change(s)</div>' in page
    assert "API_RATE_LIMIT_DELAY: absent -&gt; &#x27;1000&#x27;" in page

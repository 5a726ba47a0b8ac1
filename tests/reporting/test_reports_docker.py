"""Reports of a real run: `drillbook run backend-killed` once, on the session's shared default
lab (`--lab`), then its HTML page in headless Chromium, its history record, and its
allure-results through the real Allure command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from drillbook.reporting import AllureCommandLine, read_history, write_run_html
from support.chromium import dump_dom, expected_verdicts, page_facts, screenshot
from support.labtools import DEFAULT, DRILLBOOK, LabPool, cli_env

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, lab_pool: LabPool) -> Path:
    reports = tmp_path_factory.mktemp("reports")
    lab = lab_pool.take(DEFAULT)  # the default lab, after a verified reset
    done = subprocess.run(
        [*DRILLBOOK, "run", "backend-killed", "--report", str(reports), "--lab", lab.name],
        capture_output=True,
        text=True,
        timeout=600,
        env=cli_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "index.html" in done.stdout
    [run_dir] = [p for p in reports.iterdir() if p.is_dir()]
    return run_dir


def test_the_run_writes_its_page_and_appends_its_history(real_run: Path) -> None:
    journal = json.loads((real_run / "journal.json").read_text())
    [entry] = journal["drills"]
    # the runner's polls, kept as transitions: healthy, failing once the backend is killed, healthy
    states = [h["ok"] for h in entry["health"]]
    assert states[:3] == [True, False, True], entry["health"]
    active = next(m["t_s"] for m in entry["timeline"] if m["phase"] == "fault_active")
    recovered = next(m["t_s"] for m in entry["timeline"] if m["phase"] == "recovered")
    assert entry["health"][1]["t_s"] <= active + 5.0
    assert entry["health"][2]["t_s"] == pytest.approx(recovered, abs=0.3)
    [run] = read_history(real_run.parent / "history.jsonl")
    assert run.run_id == journal["run_id"]
    assert run.env == "docker"
    [record] = run.drills
    assert record.outcome == "passed"
    assert record.mttr_s == entry["measured_s"]["time_to_recover"]
    # the page drillbook run wrote is the one `drillbook report html` renders from journal.json
    written = (real_run / "index.html").read_text()
    again = write_run_html(real_run, real_run.parent / "again.html").read_text()
    assert written == again


def test_the_real_report_in_headless_chromium(real_run: Path) -> None:
    page = real_run / "index.html"
    facts = page_facts(dump_dom(page))
    assert facts.drills == {"backend-killed": "passed"}
    assert facts.images == 1
    assert facts.body.get("data-images-loaded") == "1/1"
    assert facts.body.get("data-images-ok") == "true"
    journal = json.loads((real_run / "journal.json").read_text())
    assert facts.verdicts == expected_verdicts(journal)
    assert set(facts.verdicts.values()) == {"pass"}
    screenshot(page, "real-backend-killed.png", height=1400)


def test_allure_renders_the_phases_as_steps_with_the_timeline(
    real_run: Path, tmp_path: Path
) -> None:
    output = AllureCommandLine().generate(real_run / "allure-results", tmp_path / "allure")
    [case_file] = list((output / "data" / "test-cases").glob("*.json"))
    case = json.loads(case_file.read_text())
    assert case["name"] == "backend-killed"
    assert case["status"] == "passed"
    steps = case["testStage"]["steps"]
    names = [s["name"] for s in steps]
    journal = json.loads((real_run / "journal.json").read_text())
    phases = [m["phase"] for m in journal["drills"][0]["timeline"]]
    expected = [p for p in phases if p not in ("step_started", "step_finished")]
    assert [n.split(" ")[0] for n in names if not n.startswith("runbook step")] == expected
    assert "runbook step: kubectl rollout restart deployment/backend (by automation)" in names
    assert all(s["time"]["stop"] >= s["time"]["start"] for s in steps)
    attachments = {a["name"]: a for a in case["testStage"]["attachments"]}
    svg = attachments["timeline"]
    assert svg["type"] == "image/svg+xml"
    body = (output / "data" / "attachments" / svg["source"]).read_text()
    assert body.startswith("<svg")
    assert "backend-killed" in body
    environment = json.loads((output / "widgets" / "environment.json").read_text())
    assert {"name": "run_id", "values": [journal["run_id"]]} in environment

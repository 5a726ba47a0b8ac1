"""`drillbook report html | trends | allure` in process: exit codes, messages, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drillbook.cli import main
from drillbook.reporting import DrillRecord, RunRecord, append_run
from support.chromium import dump_dom, page_facts
from support.journals import write_journal


def _history(path: Path, mttrs: list[float]) -> Path:
    for i, mttr in enumerate(mttrs):
        append_run(
            path,
            RunRecord(
                f"run-{i}",
                f"2026-12-0{i + 1}T10:00:00Z",
                "ci",
                "docker",
                None,
                (
                    DrillRecord("backend-killed", "passed", "TradingBotDown", 3.0, mttr),
                    DrillRecord("postgres-killed", "passed", "DatabaseDown", 2.0, 4.0),
                ),
            ),
        )
    return path


def test_trends_flags_a_regression_and_fails_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _history(tmp_path / "history.jsonl", [5.0, 5.2, 4.9, 5.1, 9.0])
    assert main(["report", "trends", "--history", str(history)]) == 0
    out = capsys.readouterr()
    assert "backend-killed" in out.out
    assert "regression: backend-killed: time to recover 9.0s in run run-4" in out.err
    assert "postgres-killed" not in out.out + out.err
    assert (tmp_path / "trends.html").is_file()
    args = ["report", "trends", "--history", str(history), "--fail-on-regression"]
    assert main(args) == 1
    assert main([*args, "--threshold", "1.0"]) == 0  # 9.0 is not above 2 x 5.05
    assert "no regressions in 5 run(s)" in capsys.readouterr().out


def test_the_trends_page_loads_its_plots_in_chromium(tmp_path: Path) -> None:
    history = _history(tmp_path / "history.jsonl", [5.0, 5.2, 4.9, 5.1, 9.0])
    page = tmp_path / "out" / "trends.html"
    main(["report", "trends", "--history", str(history), "--output", str(page)])
    facts = page_facts(dump_dom(page))
    assert facts.body.get("data-images-loaded") == "2/2"
    html = page.read_text()
    assert 'class="regression" data-drill="backend-killed" data-measure="mttr"' in html


def test_trends_names_a_corrupt_history_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _history(tmp_path / "history.jsonl", [5.0])
    with history.open("a") as out:
        out.write('{"run_id": "half a li')
    assert main(["report", "trends", "--history", str(history)]) == 2
    assert f"{history}:2: not a JSON run record" in capsys.readouterr().err


def test_trends_without_history_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "trends", "--history", str(tmp_path / "none.jsonl")]) == 0
    assert "no runs in" in capsys.readouterr().out


def test_html_renders_a_run_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = write_journal(tmp_path, "run-1", {})
    assert main(["report", "html", str(journal.parent)]) == 0
    assert (journal.parent / "index.html").is_file()
    assert main(["report", "html", str(journal), "--output", str(tmp_path / "x.html")]) == 0
    assert "report: " in capsys.readouterr().out
    assert (tmp_path / "x.html").read_text() == (journal.parent / "index.html").read_text()
    assert main(["report", "html", str(tmp_path / "nope")]) == 2
    assert "no journal at" in capsys.readouterr().err


def test_allure_without_results_or_executable_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = write_journal(tmp_path, "run-1", {})
    assert main(["report", "allure", str(journal.parent)]) == 2
    assert "no Allure results (*-result.json) there" in capsys.readouterr().err
    (journal.parent / "allure-results").mkdir()
    (journal.parent / "allure-results" / "x-result.json").write_text(json.dumps({}))
    missing = str(tmp_path / "no-allure")
    assert main(["report", "allure", str(journal.parent), "--allure", missing]) == 1
    err = capsys.readouterr().err
    assert "is not executable" in err
    assert "Hint: run .ci/bootstrap" in err

"""The run page of a game day: the plan, env and roles, and every scenario of the plan with its
outcome, who acknowledged and who did the steps, or why it was left out or not played."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest

from drillbook.errors import ConfigError
from drillbook.reporting import write_run_html
from drillbook.reporting.html import load_run
from support.journals import load, write_journal

KWOK = "on simulated (kwok) nodes, it needs real nodes: --nodes real, or a real cluster's context"


def _game_day(tmp_path: Path, **section: Any) -> Path:
    """A journal of backend-killed (passed) and backend-hung (breached) played as a game day."""
    path = write_journal(tmp_path, "run-1", {}, {"name": "backend-hung", "recovered": False})
    data = load(path)
    data["gameday"] = {
        "plan": "quarterly-kubernetes",
        "file": "drills/gameday/quarterly-kubernetes.yaml",
        "env": "kubernetes",
        "rehearsal": False,
        "roles": {
            "incident-commander": {"who": "Alex", "description": "runs <the> day"},
            "on-call": {"who": "Sam", "description": ""},
        },
        "scenarios": ["backend-killed", "exchanges-lost", "backend-hung", "postgres-killed"],
        "left_out": ["exchanges-lost"],
        "left_out_reasons": {"exchanges-lost": KWOK},
        "aborted": "Ctrl-C",
        **section,
    }
    first = data["drills"][0]
    for mark in first["timeline"]:  # Sam acknowledged and did the step by hand
        if mark["phase"] in ("response_started", "step_finished"):
            mark["actor"] = "Sam"
    path.write_text(json.dumps(data))
    return path


def _rows(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-scenario="([^"]+)" data-outcome="([^"]+)">', page)


def _row(page: str, scenario: str) -> str:
    return page.split(f'<tr data-scenario="{scenario}"', 1)[1].split("</tr>", 1)[0]


def test_every_scenario_of_the_plan_with_its_outcome_in_the_plans_order(tmp_path: Path) -> None:
    page = write_run_html(_game_day(tmp_path).parent).read_text()
    assert '<section class="drill gameday" id="gameday">' in page
    assert "<h2>Game day quarterly-kubernetes</h2>" in page
    assert "game day <b>quarterly-kubernetes</b> · profile <b>ci</b>" in page  # the page's head
    assert (
        "plan <b>quarterly-kubernetes</b> (drills/gameday/quarterly-kubernetes.yaml) · env "
        "<b>kubernetes</b> · 2 of 4 scenario(s) played · 1 left out"
    ) in page
    assert _rows(page) == [
        ("backend-killed", "passed"),
        ("exchanges-lost", "left out"),
        ("backend-hung", "breached"),
        ("postgres-killed", "not played"),
    ]
    killed = _row(page, "backend-killed")
    assert '<a href="#drill-backend-killed">backend-killed</a>' in killed
    assert "<td>TradingBotDown</td><td>Sam</td><td>Sam</td>" in killed  # acknowledged, steps
    assert "<td>automation</td><td>automation</td>" in _row(page, "backend-hung")
    left = _row(page, "exchanges-lost")
    assert '<span class="pill warn">LEFT OUT</span>' in left
    assert f"<td>{escape(KWOK)}</td>" in left
    assert "<td>aborted (Ctrl-C) before it</td>" in _row(page, "postgres-killed")
    assert "aborted (Ctrl-C): the fault was reverted" in page
    assert "<dt>on-call</dt><dd>Sam</dd>" in page
    assert "runs &lt;the&gt; day" in page  # journal text is escaped
    assert "runs <the> day" not in page
    assert page.index('id="gameday"') < page.index("<h2>Drills</h2>")


def test_a_rehearsal_that_ran_to_the_end_and_left_nothing_out(tmp_path: Path) -> None:
    path = _game_day(
        tmp_path,
        rehearsal=True,
        aborted=None,
        scenarios=["backend-killed", "backend-hung"],
        left_out=[],
        left_out_reasons=None,
    )
    page = write_run_html(path.parent).read_text()
    assert "2 of 2 scenario(s) played · rehearsal: automation played every role" in page
    assert "left out" not in page
    assert "aborted (" not in page
    assert [outcome for _, outcome in _rows(page)] == ["passed", "breached"]


def test_an_older_game_day_section_renders_the_played_then_the_left_out(tmp_path: Path) -> None:
    path = _game_day(tmp_path, aborted=None)
    data = load(path)
    del data["gameday"]["scenarios"], data["gameday"]["left_out_reasons"]
    data["gameday"]["roles"] = {"on-call": "Sam", "scribe": None}
    path.write_text(json.dumps(data))
    run = load_run(path.parent)
    assert run.gameday is not None
    assert run.gameday.left_out == {"exchanges-lost": ""}
    page = write_run_html(path.parent).read_text()
    assert _rows(page) == [
        ("backend-killed", "passed"),
        ("backend-hung", "breached"),
        ("exchanges-lost", "left out"),
    ]
    assert "<td>the lab could not run it</td>" in _row(page, "exchanges-lost")
    assert "<dt>on-call</dt><dd>Sam</dd><dt>scribe</dt><dd></dd>" in page


def test_a_run_that_is_no_game_day_has_no_game_day_section(tmp_path: Path) -> None:
    path = write_journal(tmp_path, "run-1", {})
    assert load_run(path.parent).gameday is None
    page = write_run_html(path.parent).read_text()
    assert 'id="gameday"' not in page
    assert "game day" not in page.lower()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("left_out", "exchanges-lost", r"gameday\.left_out: expected a list of strings"),
        ("roles", ["Sam"], r"gameday\.roles: expected an object"),
        ("roles", {"on-call": 3}, r"gameday\.roles\.on-call: expected an object"),
        ("rehearsal", "yes", r"gameday\.rehearsal: expected true or false"),
        (
            "left_out_reasons",
            {"exchanges-lost": 1},
            r"gameday\.left_out_reasons\.exchanges-lost: expected a string",
        ),
    ],
)
def test_a_bad_game_day_field_names_the_file_and_the_field(
    tmp_path: Path, field: str, value: object, expected: str
) -> None:
    path = _game_day(tmp_path, **{field: value})
    with pytest.raises(ConfigError, match=rf"journal\.json\.{expected}"):
        load_run(path.parent)


def test_a_game_day_section_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    path = _game_day(tmp_path)
    data = load(path)
    data["gameday"] = ["quarterly"]
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"journal\.json\.gameday: expected an object"):
        load_run(path.parent)

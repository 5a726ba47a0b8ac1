"""The pytest plugin, run as users run it: real inner pytest sessions through pytester."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from drillbook.engine import docker_client
from drillbook.environments.docker import list_resources


def test_plugin_registers_its_options_and_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--drill-env*", "*--drill-profile*", "*--drill-report*"])
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.drill(alert)*"])


def test_a_bad_profile_is_refused(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--drill-profile", "weekly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'weekly'*"])


DRILLS = """
import pytest
from drillbook.drills import Drill, Step
from drillbook.faults import KillContainer
from drillbook.probes import ServiceHealthy
from drillbook.sla import Budget

def redis_drill(*steps):
    return Drill("redis killed", "RedisDown", KillContainer("redis"), (ServiceHealthy("redis"),),
                 steps, (Budget("time_to_recover", 20, "test"),))

@pytest.mark.drill("RedisDown")
def test_redis_restarted(drill):
    result = drill(redis_drill(Step("start redis", lambda p: p.start("redis"))))
    assert result.measured["time_to_recover"] < 20

@pytest.mark.drill("RedisDown")
def test_redis_sabotaged(drill):
    drill(redis_drill(Step("does nothing", lambda p: None)))
"""


@pytest.mark.docker
def test_drills_run_through_the_plugin_and_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_drills=DRILLS)
    report = pytester.path / "reports"
    result = pytester.runpytest_subprocess(
        "--drill-lab-name",
        "pytester-lab",
        "--drill-profile",
        "ci",
        "--drill-report",
        str(report),
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*SLABreached: SLA breached: time_to_recover (never reached)*budget 5.0s*"]
    )
    [run_dir] = [p for p in report.iterdir() if p.is_dir()]
    journal = json.loads((run_dir / "journal.json").read_text())
    assert [d["outcome"] for d in journal["drills"]] == ["passed", "breached"]
    assert journal["passed"] is False
    suite = ET.parse(run_dir / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    allure = list((run_dir / "allure-results").glob("*-result.json"))
    assert len(allure) == 2
    steps = json.loads(allure[0].read_text())["steps"]
    assert any(s["name"].startswith("fault_active") for s in steps)
    page = (run_dir / "index.html").read_text()
    assert page.count('<img class="timeline"') == 2
    assert (report / "history.jsonl").is_file()
    client = docker_client()
    try:
        assert [
            r for r in list_resources(client) if r.labels.get("drillbook.lab") == "pytester-lab"
        ] == []
    finally:
        client.close()


PROJECT_TESTS = """
def test_each_drill_of_the_project(drill, project_drill, drill_project):
    assert drill_project.name == "notes"
    drill(project_drill)
"""


@pytest.mark.docker
def test_a_projects_drills_run_through_the_plugin(pytester: pytest.Pytester) -> None:
    """--drill-project: the lab fixture starts the project's lab (its Compose file), and a test
    taking project_drill runs once per drill of the project, each named by its drill."""
    from pathlib import Path

    notes = Path(__file__).resolve().parents[1] / "examples" / "notes"
    pytester.makepyfile(test_project=PROJECT_TESTS)
    result = pytester.runpytest_subprocess(
        "--drill-project",
        str(notes),
        "--drill-lab-name",
        "pytester-project-lab",
        "-v",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["*test_each_drill_of_the_project?api-killed? PASSED*", "*?data-consistency? PASSED*"]
    )
    client = docker_client()
    try:
        assert [
            r
            for r in list_resources(client)
            if r.labels.get("drillbook.lab") == "pytester-project-lab"
        ] == []
    finally:
        client.close()

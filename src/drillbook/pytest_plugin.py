"""drillbook's pytest plugin (entry point ``pytest11``): cheap to import, heavy work deferred.

Options: ``--drill-env`` (docker), ``--drill-profile`` (ci, nightly, gameday),
``--drill-report DIR`` (journal, Allure results and JUnit XML under DIR/<run-id>/),
``--drill-lab-name``, ``--drill-project DIR`` (a drill project: the ``lab`` fixture starts its
lab, and a test taking ``project_drill`` runs once per drill of it).
Fixtures: ``lab`` (the session's lab, started on first use and
always removed at the end, also when interrupted), ``detection`` (its alert pipeline:
``wait_for_alert``, the alert history, detection bounds) and ``drill`` (runs a
:class:`Drill` through the runner with the chosen profile and reporters, and fails the test on
a breach). Marker:
``@pytest.mark.drill("TradingBotDown")`` names the runbook alert a test drills.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from drillbook.detection import Detection
    from drillbook.drills import Drill
    from drillbook.environments.docker import DockerLab
    from drillbook.sla import DrillResult

__all__ = ["detection", "drill", "drill_project", "lab"]

_RESULTS = pytest.StashKey[list[Any]]()
_HANDLERS = pytest.StashKey[list[Any]]()
_PROJECT = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    from drillbook.environments import ENVIRONMENTS  # light: no Docker client imported

    group = parser.getgroup("drillbook")
    group.addoption(
        "--drill-env",
        default="docker",
        choices=ENVIRONMENTS.names(),
        help="where drills run (default: docker; kubernetes comes with its tier)",
    )
    group.addoption(
        "--drill-profile",
        default="ci",
        choices=("ci", "nightly", "gameday"),
        help="intensity and budgets: ci (default), nightly or gameday",
    )
    group.addoption(
        "--drill-report",
        default=None,
        metavar="DIR",
        help="write DIR/<run-id>/journal.json, allure-results/ and junit.xml",
    )
    group.addoption(
        "--drill-project",
        default=None,
        metavar="DIR",
        help="a drill project (DIR/drillbook.yaml): the lab fixture starts its lab, and a "
        "test taking project_drill runs once per drill of it (default: the reference stack)",
    )
    group.addoption(
        "--drill-lab-name",
        default=None,
        help="name of the lab the session starts (default: pytest-<pid>)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drill(alert): a drill that exercises the runbook's ALERT")
    config.stash[_RESULTS] = []
    config.stash[_HANDLERS] = []
    report = config.getoption("--drill-report", default=None)
    if report:
        from drillbook.environments.docker import new_run_id
        from drillbook.reporting import (
            AllureResults,
            HtmlReport,
            JsonJournal,
            JUnitXml,
            RunHistory,
            git_commit,
        )

        run_id = new_run_id()
        profile = config.getoption("--drill-profile")
        base = Path(report) / run_id
        journal = JsonJournal(Path(report), run_id, profile)
        env = str(config.getoption("--drill-env"))
        config.stash[_HANDLERS] = [
            journal,
            AllureResults(base / "allure-results", profile),
            JUnitXml(base / "junit.xml"),
            HtmlReport(journal),
            RunHistory(journal, Path(report) / "history.jsonl", env=env, commit=git_commit()),
        ]


def pytest_sessionfinish(session: pytest.Session) -> None:
    results = session.config.stash.get(_RESULTS, [])
    for handler in session.config.stash.get(_HANDLERS, []):
        handler.run_finished(results)


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[DockerLab]:
    """The session's Docker lab with the default services."""
    from drillbook.environments.docker import DockerLab, LabSettings

    name = request.config.getoption("--drill-lab-name") or f"pytest-{os.getpid()}"
    project = _project(request.config)
    if project is not None:
        from drillbook.project import lab_settings

        env = DockerLab(lab_settings(project, name))
    else:
        env = DockerLab(LabSettings(name=name))
    env.start()
    try:
        yield env
    finally:
        env.stop()


def _project(config: pytest.Config) -> Any:
    """The --drill-project loaded once per session (a ConfigError names its file and line)."""
    directory = config.getoption("--drill-project", default=None)
    if not directory:
        return None
    cached = config.stash.get(_PROJECT, None)
    if cached is None:
        from drillbook.project import load_project

        cached = load_project(directory)
        config.stash[_PROJECT] = cached
    return cached


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking ``project_drill`` runs once per drill of --drill-project."""
    if "project_drill" not in metafunc.fixturenames:
        return
    project = _project(metafunc.config)
    if project is None:
        metafunc.parametrize("project_drill", [], ids=[])
        return
    from drillbook.project import project_drills

    drills = project_drills(project, str(metafunc.config.getoption("--drill-env")))
    metafunc.parametrize("project_drill", drills, ids=[d.name for d in drills])


@pytest.fixture(scope="session")
def drill_project(request: pytest.FixtureRequest) -> Any:
    """The --drill-project (a :class:`drillbook.project.Project`), or None."""
    return _project(request.config)


@pytest.fixture(scope="session")
def docker_lab(lab: DockerLab) -> DockerLab:
    """The same lab as ``lab``, named for what it is."""
    return lab


@pytest.fixture(scope="session")
def detection(lab: DockerLab) -> Detection:
    """The lab's alert pipeline: ``detection.wait_for_alert(name, state, timeout)``, the
    history of this lab run, each alert's detection bound."""
    from drillbook.detection import Detection

    return Detection.for_lab(lab)


@pytest.fixture
def drill(request: pytest.FixtureRequest, lab: DockerLab) -> Callable[[Drill], DrillResult]:
    """Run a drill: ``drill(Drill(...))`` returns its result, and fails the test on a breach."""
    from drillbook.drills import DrillRunner
    from drillbook.sla import get_profile

    marker = request.node.get_closest_marker("drill")
    profile = get_profile(request.config.getoption("--drill-profile"))
    handlers = request.config.stash.get(_HANDLERS, [])

    def run(d: Drill) -> DrillResult:
        if marker is not None and marker.args and marker.args[0] != d.alert:
            pytest.fail(f"the test is marked drill({marker.args[0]!r}) but runs a {d.alert} drill")
        report = request.config.getoption("--drill-report")
        evidence = (
            Path(report) / "evidence" / request.node.name
            if report
            else request.config.rootpath / "reports" / "evidence" / request.node.name
        )
        result = DrillRunner(lab, profile, handlers, evidence_dir=evidence).run(d)
        request.config.stash[_RESULTS].append(result)
        result.raise_for_outcome()
        return result

    return run

"""The second example project, examples/notes: a notes API, PostgreSQL and a Redis cache,
written against the project format only. It loads with the runbook's budgets (no Docker),
and on one Docker lab each drill passes, the sabotaged one breaches time_to_recover naming
the runbook's line, and the lab is steady after every one."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.cli import main
from drillbook.drills import DrillRunner
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import SLABreached
from drillbook.faults import StopContainer
from drillbook.project import Project, lab_settings, load_project, project_drills
from drillbook.sla import Phase, Profile
from drillbook.waiting import Wait

NOTES = Path(__file__).resolve().parents[2] / "examples" / "notes"
SABOTAGED = NOTES / "sabotaged"
LAB = "drillbook-notes-test"
# the drills' own budgets apply (tightened to 120 s); a short settle keeps the module quick
PROFILE = Profile("notes-test", settle_s=1.0)
# the sabotaged drill must fail fast: recovery budget far below the runbook's
STRICT = Profile("sabotage", limits={"time_to_recover": 6}, settle_s=1.0)


def _budgets(project: Project) -> dict[str, dict[str, tuple[float, str]]]:
    return {
        d.name: {b.measure: (b.seconds, b.source) for b in d.budgets}
        for d in project_drills(project)
    }


def test_the_notes_project_loads_with_the_runbook_budgets() -> None:
    project = load_project(NOTES)
    assert project.name == "notes"
    assert project.lab.services == ("api", "db", "cache")
    assert not project.todos
    budgets = _budgets(project)
    assert list(budgets) == ["api-killed", "api-cut-from-db", "cache-down", "data-consistency"]
    # the runbook's response times, each citing its line
    assert budgets["api-killed"]["time_to_respond"] == (
        300.0,
        "runbook.md:12 NotesApiDown Response Time: Immediate (< 5 minutes)",
    )
    assert budgets["api-cut-from-db"]["time_to_respond"][0] == 300.0
    assert budgets["cache-down"]["time_to_respond"][0] == 900.0
    # recovery: the runbook's escalation times, tightened by the drill files (never loosened)
    for name, runbook_line in (
        ("api-killed", "runbook.md:29"),
        ("api-cut-from-db", "runbook.md:58"),
        ("cache-down", "runbook.md:80"),
    ):
        seconds, source = budgets[name]["time_to_recover"]
        assert seconds == 120.0
        assert runbook_line in source
    assert budgets["data-consistency"] == {
        "window:Check": (
            120.0,
            "data-consistency.yaml:26 drill file "
            "(runbook 600s: runbook.md:86 Data Consistency Check / Check (< 10 minutes))",
        )
    }
    drills = {d.name: d for d in project_drills(project)}
    assert drills["api-cut-from-db"].fault.name == "block api -> port 5432"
    assert [s.runbook for s in drills["api-cut-from-db"].steps] == [
        "runbook.md:41",
        "runbook.md:47",
        "runbook.md:52",
    ]
    assert drills["data-consistency"].planned
    assert len(drills["data-consistency"].invariants) == 3
    # the sabotaged variant: same lab and runbook, one drill without its remediation
    sabotaged = load_project(SABOTAGED)
    assert sabotaged.lab.compose is not None
    assert project.lab.compose is not None
    assert sabotaged.lab.compose.resolve() == project.lab.compose.resolve()
    (drill,) = project_drills(sabotaged)
    assert [s.runbook for s in drill.steps] == ["runbook.md:41"]
    assert {b.measure: b.seconds for b in drill.budgets}["time_to_recover"] == 30.0


@pytest.mark.parametrize("root", [NOTES, SABOTAGED], ids=["notes", "sabotaged"])
def test_check_project_accepts_the_notes_example(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-project", str(root)]) == 0
    assert "3 services" in capsys.readouterr().out


# -- on Docker: one lab for the module ------------------------------------------------------


@pytest.fixture(scope="module")
def notes_lab() -> Iterator[DockerLab]:
    lab = DockerLab(lab_settings(load_project(NOTES), name=LAB))
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def notes(notes_lab: DockerLab) -> list[int]:
    """A few notes written through the API, so the data checks have rows to look at."""
    platform = DockerPlatform(notes_lab)
    ids = []
    for body in ("buy milk", "call the plumber", "drill the runbook"):
        status, answer = platform.http_call(
            "api", "8080", "/notes", method="POST", body={"body": body}
        )
        assert status == 201, answer
        ids.append(int(answer["id"]))
    return ids


def _run_and_pass(lab: DockerLab, name: str) -> None:
    (drill,) = [d for d in project_drills(load_project(NOTES)) if d.name == name]
    result = DrillRunner(lab, PROFILE, detection=None).run(drill)
    result.raise_for_outcome()
    assert result.outcome == "passed", result.error
    assert result.reverted
    assert result.steady_after


@pytest.mark.docker
def test_the_api_refuses_a_note_without_a_body(notes_lab: DockerLab, notes: list[int]) -> None:
    platform = DockerPlatform(notes_lab)
    status, _ = platform.http_call("api", "8080", "/notes", method="POST", body={"body": " "})
    assert status == 400
    status, answer = platform.http_call("api", "8080", f"/notes/{notes[0]}")
    assert (status, answer) == (200, {"id": notes[0], "body": "buy milk"})


@pytest.mark.docker
@pytest.mark.parametrize(
    "name", ["api-killed", "api-cut-from-db", "cache-down", "data-consistency"]
)
def test_notes_drill_passes(notes_lab: DockerLab, notes: list[int], name: str) -> None:
    _run_and_pass(notes_lab, name)
    status, answer = DockerPlatform(notes_lab).http_call("api", "8080", f"/notes/{notes[-1]}")
    assert (status, answer) == (200, {"id": notes[-1], "body": "drill the runbook"})


@pytest.mark.docker
def test_the_api_serves_reads_with_the_cache_stopped(
    notes_lab: DockerLab, notes: list[int]
) -> None:
    """The cache is an optimisation: with Redis stopped a note is read from the database."""
    platform = DockerPlatform(notes_lab)
    fault = StopContainer("cache", timeout_s=1)
    fault.inject(notes_lab)
    try:
        assert fault.verify_active(notes_lab).ok
        for note in notes:
            status, answer = platform.http_call("api", "8080", f"/notes/{note}", timeout_s=5)
            assert status == 200, answer
        status, health = platform.http_call("api", "8080", "/health")
        assert (status, health) == (200, {"db": True, "cache": False})
    finally:
        fault.revert(notes_lab)
    Wait(timeout_s=30, poll_s=0.2).until(lambda: notes_lab.look("cache"), "the cache back")


@pytest.mark.docker
def test_the_sabotaged_drill_breaches_time_to_recover(notes_lab: DockerLab) -> None:
    (drill,) = project_drills(load_project(SABOTAGED))
    result = DrillRunner(notes_lab, STRICT, detection=None).run(drill)
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase.startswith("time_to_recover")
    assert info.value.budget_s == 6
    message = str(info.value)
    assert "runbook.md:58" in message  # the budget says where it came from
    assert "api healthy" in message  # and what the probes saw
    assert result.reverted
    assert result.steady_after  # the lab is restored all the same
    assert DockerPlatform(notes_lab).http_call("api", "8080", "/health")[0] == 200


@pytest.mark.docker
def test_fault_schedules_run_on_the_project_and_keep_its_invariants(
    notes_lab: DockerLab, notes: list[int], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`schedules run --project`: Hypothesis combines the project's own drill faults (kill
    the API, cut it from its database, stop the cache) and checks the invariants its drills
    declare after each schedule (ci is derandomized: the same two schedules every run)."""
    argv = ["schedules", "run", "--project", str(NOTES), "--lab", LAB, "--examples", "2"]
    code = main([*argv, "--report", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "api-killed, api-cut-from-db, cache-down" in err
    assert err.count("schedule: ") >= 1
    assert "2 schedule(s) at most, every invariant held" in out
    assert not list(tmp_path.iterdir())  # nothing failed, nothing saved
    status, answer = DockerPlatform(notes_lab).http_call("api", "8080", f"/notes/{notes[0]}")
    assert status == 200, answer


@pytest.mark.docker
def test_a_broken_project_invariant_fails_the_replay_naming_it(
    notes_lab: DockerLab, notes: list[int], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "notes"
    shutil.copytree(NOTES, project, ignore=shutil.ignore_patterns("sabotaged"))
    drill = project / "drills" / "cache-down.yaml"
    drill.write_text(
        drill.read_text() + "  - name: planted, no note at all\n    sql: SELECT id FROM notes\n"
    )
    saved = tmp_path / "cache.json"
    saved.write_text(
        '{"budget_s": 3, "events": [{"kind": "cache-down", "target": "cache", '
        '"start_s": 0, "duration_s": 2}]}'
    )
    code = main(["replay", str(saved), "--project", str(project), "--lab", LAB])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "ok   every fault reverted" in out
    assert "ok   lab back in steady state" in out
    assert f"FAIL planted, no note at all: {len(notes)} row(s)" in out
    assert "replay: 7/8 invariant(s) held" in out  # 6 declared by the drills, 1 planted


@pytest.mark.docker
def test_a_game_day_of_the_project_rehearses_its_own_plan(
    notes_lab: DockerLab, notes: list[int], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`gameday --project`: the project's plan (examples/notes/gameday.yaml) names the
    project's drills, its roles play them (automation in a rehearsal), the report records the
    project, and the lab is as the game day found it."""
    plan = NOTES / "gameday.yaml"
    argv = ["gameday", str(plan), "--project", str(NOTES), "--lab", LAB, "--rehearsal"]
    code = main([*argv, "--profile", "ci", "--report", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "rehearsal: acknowledged by automation as on-call" in err
    assert "residue: none" in out
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    journal = json.loads((run / "journal.json").read_text())
    assert journal["project"] == "notes"
    assert journal["gameday"]["rehearsal"] is True
    drills = {d["drill"]: d for d in journal["drills"]}
    assert list(drills) == ["api-killed", "cache-down"]
    assert all(d["outcome"] == "passed" for d in drills.values())
    actors = [(t["phase"], t["actor"]) for t in drills["api-killed"]["timeline"]]
    assert ("response_started", "automation as on-call") in actors  # the plan's role, played
    assert [a for p, a in actors if p == "step_finished"] == ["automation", "automation"]


@pytest.mark.docker
def test_the_projects_alert_rules_time_its_drill(notes_lab: DockerLab, notes: list[int]) -> None:
    """With alert_rules: and monitoring:, the project's lab runs Prometheus on the project's
    rules (alerts.yml) and the drill is timed to its alert, NotesApiDown, against the
    pipeline's bound, as the reference stack's drills are."""
    (drill,) = [d for d in project_drills(load_project(NOTES)) if d.name == "api-killed"]
    result = DrillRunner(notes_lab, PROFILE).run(drill)
    result.raise_for_outcome()
    assert result.outcome == "passed", result.error
    fired = [m for m in result.marks if m.phase is Phase.DETECTED_ALERT]
    assert fired, [m.phase for m in result.marks]
    assert fired[0].detail.startswith("NotesApiDown firing")
    budgets = {b.measure: b for b in result.budgets}
    assert budgets["time_to_alert"].source.startswith("detection bound")
    assert any(m.phase is Phase.ALERT_RESOLVED for m in result.marks)  # it cleared again

"""``drillbook run --project DIR`` as a new user runs it: a project made with ``drillbook init``
outside the repository and hand edits of its YAML runs and writes the usual report; the
sabotaged example fails naming the phase, the budget and the runbook's line; nothing is left."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from drillbook.cli import main
from drillbook.engine import docker_client

pytestmark = pytest.mark.docker

NOTES = Path(__file__).resolve().parents[2] / "examples" / "notes"


def _left(lab: str) -> list[str]:
    client = docker_client()
    found = client.containers.list(all=True, filters={"label": f"drillbook.lab={lab}"})
    found += client.volumes.list(filters={"label": f"drillbook.lab={lab}"})
    return [str(getattr(r, "name", r)) for r in found]


def test_a_project_made_by_init_runs_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the team's own files, outside the repository: a Compose file, its code, a runbook
    system = tmp_path / "system"
    system.mkdir()
    for name in ("compose.yaml", "runbook.md"):
        shutil.copy(NOTES / name, system / name)
    shutil.copytree(NOTES / "app", system / "app")
    project = system / "drills-project"
    assert main(["init", str(project), "--runbook", str(system / "runbook.md"),
                 "--compose", str(system / "compose.yaml")]) == 0  # fmt: skip
    # hand edits of the YAML only: one drill bound, the others dropped from the project
    config = project / "drillbook.yaml"
    text = config.read_text()
    text = re.sub(r"  - drills/(?!notesapidown).*\n", "", text)
    # init listed the Compose file's variable as a generated secret; health is a hand edit
    assert "secrets:\n  NOTES_DB_PASSWORD: [api, db]\n" in text
    config.write_text(text + "health:\n  api: {http: /health, port: 8080}\n")
    drill = project / "drills" / "notesapidown.yaml"
    text = drill.read_text()
    text = text.replace('fault: "TODO the fault to inject (a name of drillbook.faults.FAULTS)"',
                        "fault: {kill_container: {service: api}}")  # fmt: skip
    text = text.replace('probes: "TODO the probes (names of drillbook.probes.PROBES)"',
                        "probes: [{service_healthy: {service: api}}]")  # fmt: skip
    text = text.replace(
        '    todo: "TODO bind to a verb, run: or kubectl: (its commands above)"',
        "    restart: {service: api}",
        1,
    )
    text = text.replace(
        '    todo: "TODO bind to a verb, run: or kubectl: (its commands above)"',
        "    run: {service: api, command: curl -fsS http://localhost:8080/notes}",
        1,
    )
    drill.write_text(text)
    capsys.readouterr()
    assert main(["check-project", str(project)]) == 0, capsys.readouterr().err
    reports, lab = tmp_path / "reports", "drillbook-init-run-test"
    code = main(["run", "--project", str(project), "--report", str(reports), "--name", lab])
    out, err = capsys.readouterr()
    assert code == 0, err[-3000:]
    assert "of project 'drills-project'" in err
    assert "residue: none" in out
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    for name in ("index.html", "journal.json", "junit.xml", "residue.json"):
        assert (run_dir / name).is_file(), name
    journal = json.loads((run_dir / "journal.json").read_text())
    assert journal["project"] == "drills-project"
    assert [d["drill"] for d in journal["drills"]] == ["notesapidown"]
    assert journal["drills"][0]["outcome"] == "passed"
    history = (reports / "history.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["project"] == "drills-project"
    assert _left(lab) == []


def test_the_sabotaged_example_fails_naming_phase_budget_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = "drillbook-sabotaged-run-test"
    code = main(
        [
            "run",
            "--project",
            str(NOTES / "sabotaged"),
            "--report",
            str(tmp_path),
            "--name",
            lab,
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1, err[-3000:]
    assert re.search(
        r"SLA breached: time_to_recover \(never reached\) took [\d.]+s, budget 7\.5s", err
    ), err[-3000:]
    assert "runbook.md:58" in err
    assert "residue: none" in out
    assert _left(lab) == []


def test_runbook_check_runs_the_projects_sql_on_its_lab(capsys: pytest.CaptureFixture[str]) -> None:
    lab = "drillbook-project-rbcheck-test"
    code = main(["runbook", "check", "--project", str(NOTES), "--name", lab])
    out, err = capsys.readouterr()
    assert code == 0, out + err[-2000:]
    assert "note: SQL executed on PostgreSQL 15" in out
    assert "(the lab's database notes)" in out
    assert "0 finding(s)" in out
    assert _left(lab) == []

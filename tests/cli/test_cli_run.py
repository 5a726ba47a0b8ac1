"""`drillbook run` as the README's main job runs it: real drills, a report, on the session's
shared default lab through `--lab` (drilled as it is, left up and as it was found); a lab that
is not up refused; an abort on it reverts the fault and leaves it up; without `--lab`, a lab of
its own started and removed."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from drillbook.drills import lab_state, residue
from drillbook.engine import docker_client
from drillbook.environments.docker import DockerLab, clean_leftovers
from support.labtools import DRILLBOOK, LabPool, cli_env, leftovers, run_label

pytestmark = pytest.mark.docker


def test_run_writes_journal_junit_and_allure(tmp_path: Path, default_lab: DockerLab) -> None:
    before, run_id = lab_state(default_lab), run_label(default_lab)
    result = subprocess.run(
        [*DRILLBOOK, "run", "backend-killed", "postgres-killed",
         "--report", str(tmp_path), "--lab", default_lab.name],
        capture_output=True, text=True, timeout=600, env=cli_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir()]
    journal = json.loads((run_dir / "journal.json").read_text())
    assert [d["drill"] for d in journal["drills"]] == ["backend-killed", "postgres-killed"]
    assert all(d["outcome"] == "passed" for d in journal["drills"])
    assert journal["passed"] is True
    assert (run_dir / "junit.xml").is_file()
    assert len(list((run_dir / "allure-results").glob("*-result.json"))) == 2
    assert (run_dir / "index.html").is_file()
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [[d["drill"] for d in run["drills"]] for run in history] == [
        ["backend-killed", "postgres-killed"]
    ]
    assert "backend-killed" in result.stdout
    assert "***" not in result.stdout  # nothing secret-like printed
    assert "POSTGRES_PASSWORD" not in result.stdout + result.stderr
    # --lab: the lab was neither started nor removed, and is as the run found it
    assert f"lab {default_lab.name!r} (--lab: already up, left up)" in result.stderr
    assert "starting postgres" not in result.stderr
    assert f"lab {default_lab.name!r} left up (--lab)" in result.stderr
    assert "residue: none" in result.stdout
    assert json.loads((run_dir / "residue.json").read_text()) == {"residue": []}
    assert run_label(default_lab) == run_id  # the same lab, not one started anew
    assert residue(before, lab_state(default_lab)) == []


def test_a_lab_that_is_not_up_is_refused_naming_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [*DRILLBOOK, "run", "backend-killed", "--lab", "no-such-lab", "--report", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=cli_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "drillbook: error: --lab no-such-lab: no lab 'no-such-lab' is up" in result.stderr
    assert "start it with `drillbook lab up --name no-such-lab`" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing started


def test_sigterm_on_a_lab_that_is_up_reverts_the_fault_and_leaves_it_up(
    tmp_path: Path, default_lab: DockerLab
) -> None:
    before, run_id = lab_state(default_lab), run_label(default_lab)
    proc = subprocess.Popen(
        [*DRILLBOOK, "run", "backend-killed", "--lab", default_lab.name,
         "--report", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli_env(),
    )  # fmt: skip
    seen: list[str] = []
    active = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if line.strip().startswith("fault_active"):  # the backend is down
                active.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert active.wait(timeout=180), "".join(seen)[-3000:]
        proc.send_signal(signal.SIGTERM)  # as a CI job's timeout sends it
        assert proc.wait(timeout=180) == 130, "".join(seen)[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
    stderr = "".join(seen)
    assert "Traceback" not in stderr
    assert f"lab {default_lab.name!r} left up (--lab)" in stderr
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir()]
    [entry] = json.loads((run_dir / "journal.json").read_text())["drills"]
    assert (entry["drill"], entry["outcome"], entry["reverted"]) == (
        "backend-killed",
        "aborted",
        True,
    )
    # still up, the same lab, every service healthy again and nothing changed
    assert default_lab.is_up()
    assert run_label(default_lab) == run_id
    assert LabPool.verify(default_lab, before, settle_s=60) == []


def test_without_lab_the_run_starts_its_own_lab_and_removes_it(tmp_path: Path) -> None:
    """The main job as `make drill` runs it: a private lab (its start and removal are what is
    tested), one drill, the report, nothing left behind."""
    name = f"cli-own-{uuid.uuid4().hex[:6]}"
    client = docker_client()
    try:
        result = subprocess.run(
            [*DRILLBOOK, "run", "backend-killed", "--name", name, "--report", str(tmp_path)],
            capture_output=True, text=True, timeout=600, env=cli_env(), check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        assert "starting postgres" in result.stderr  # a lab of its own
        [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir()]
        journal = json.loads((run_dir / "journal.json").read_text())
        assert [(d["drill"], d["outcome"]) for d in journal["drills"]] == [
            ("backend-killed", "passed")
        ]
        assert json.loads((run_dir / "residue.json").read_text()) == {"residue": []}
        assert leftovers(client, name) == []  # removed at the end
    finally:
        clean_leftovers(client, name)

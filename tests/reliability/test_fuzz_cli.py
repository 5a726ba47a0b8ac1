"""Malformed input files, fuzzed with Hypothesis, through the CLI in-process: a clear error
(exit 2, ``drillbook: error: FILE...``) or success, never a traceback.

Files: runbooks (``drillbook runbook show FILE``), Chaos Toolkit experiments (``drillbook
experiments check FILE``) and fault schedules (``drillbook replay FILE``: only files that do
not load, so no lab is ever started). Inputs are mutations of the real files (cut, spliced,
characters changed) and text from nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from drillbook.cli import main
from drillbook.errors import ConfigError
from drillbook.schedules import load_schedule
from support.mutations import text_mutated

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "fixtures" / "operational-runbooks.md").read_text()
EXPERIMENT = (ROOT / "experiments" / "trading-bot-down.yaml").read_text()
SCHEDULE = json.dumps(
    {
        "format": "drillbook.schedule/1",
        "budget_s": 8,
        "note": "",
        "events": [
            {"kind": "kill", "target": "backend", "start_s": 0, "duration_s": 1},
            {"kind": "partition", "target": "redis", "start_s": 1.5, "duration_s": 2},
        ],
    },
    indent=2,
)
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


def inputs(text: str) -> st.SearchStrategy[str]:
    return st.one_of(text_mutated(text), st.text(max_size=300))


def run_cli(argv: list[str]) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)  # an exception here (a traceback) fails the test
    return code, err.getvalue()


def check_clear(code: int, stderr: str, path: Path) -> None:
    assert code in (0, 2), (code, stderr)
    if code == 2:
        assert stderr.startswith(f"drillbook: error: {path}"), stderr
    assert "Traceback" not in stderr


_DIR = Path(tempfile.mkdtemp(prefix="drillbook-fuzz-"))
atexit.register(shutil.rmtree, _DIR, True)


def _file(suffix: str, text: str) -> Path:
    path = _DIR / f"input{suffix}"  # one file per kind, overwritten by each example
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


@FUZZ
@given(inputs(RUNBOOK))
def test_runbook_files(text: str) -> None:
    path = _file(".md", text)
    code, err = run_cli(["runbook", "show", str(path)])
    check_clear(code, err, path)


@FUZZ
@given(inputs(EXPERIMENT))
def test_experiment_files(text: str) -> None:
    path = _file(".yaml", text)
    code, err = run_cli(["experiments", "check", str(path)])
    check_clear(code, err, path)


@FUZZ
@given(inputs(SCHEDULE))
def test_schedule_files(text: str) -> None:
    path = _file(".json", text)
    try:
        load_schedule(path)
    except ConfigError:
        pass
    else:
        assume(False)  # still a valid schedule: replaying it would start a lab
    code, err = run_cli(["replay", str(path)])
    assert code == 2, err
    check_clear(code, err, path)


def test_the_fuzzed_files_start_valid(tmp_path: Path) -> None:
    """The seeds are sound, so a failure above is the mutation's, not the seed's."""
    for argv, name, text in (
        (["runbook", "show"], "r.md", RUNBOOK),
        (["experiments", "check"], "e.yaml", EXPERIMENT),
    ):
        (tmp_path / name).write_text(text)
        assert run_cli([*argv, str(tmp_path / name)])[0] == 0
    (tmp_path / "s.json").write_text(SCHEDULE)
    assert len(load_schedule(tmp_path / "s.json").events) == 2

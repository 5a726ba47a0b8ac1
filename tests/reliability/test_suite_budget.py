"""The suite's budget check (``support.suite_budget``), run in real inner pytest sessions: the
slowest tests and the wall time printed, a full run recorded for ``bench/suite.py``, a partial
one never recorded; with xdist the controller records once, whatever the workers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "suite.py"

TESTS = """
import time

def test_slow():
    time.sleep(0.3)

def test_fast():
    pass

def test_broken():
    assert 1 == 2
"""


@pytest.fixture
def history(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = pytester.path / "suite-history.jsonl"
    monkeypatch.setenv("DRILLBOOK_SUITE_HISTORY", str(path))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))  # support.*
    pytester.makepyfile(test_three=TESTS)
    return path


def test_a_full_run_prints_and_records_the_slowest_first(
    pytester: pytest.Pytester, history: Path
) -> None:
    result = pytester.runpytest("-p", "support.suite_budget", "--hypothesis-profile=ci")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*= suite budget =*",
            "*s  test_three.py::test_slow",
            "suite: 3 tests in *, tier ci, 1 worker(s); budget 22 min: within",
        ]
    )
    [record] = [json.loads(line) for line in history.read_text().splitlines()]
    assert record["tests"] == 3
    assert record["outcomes"] == {"passed": 2, "failed": 1}
    assert record["full"] is True
    assert record["tier"] == "ci"
    assert record["slowest"][0]["test"] == "test_three.py::test_slow"
    assert record["slowest"][0]["total_s"] >= 0.3
    shown = subprocess.run(
        [sys.executable, str(BENCH), "--history", str(history)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert " ci " in shown.stdout
    assert "ok (1 failed)" in shown.stdout


def test_a_partial_run_is_not_recorded(pytester: pytest.Pytester, history: Path) -> None:
    result = pytester.runpytest("-p", "support.suite_budget", "-k", "fast")
    assert result.ret == pytest.ExitCode.OK
    assert not history.exists()


def test_with_workers_the_controller_records_once(pytester: pytest.Pytester, history: Path) -> None:
    result = pytester.runpytest_subprocess("-p", "support.suite_budget", "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    [record] = [json.loads(line) for line in history.read_text().splitlines()]
    assert record["workers"] == 2
    assert record["tests"] == 3
    assert record["slowest"][0]["test"] == "test_three.py::test_slow"

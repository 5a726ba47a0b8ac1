"""reports/history.jsonl: one record per run, appended; a corrupt line is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drillbook.errors import ConfigError
from drillbook.reporting import JsonJournal, RunHistory, append_run, read_history, record_of
from support.journals import load, write_journal


def test_record_of_a_journal_takes_mttd_from_the_alert_and_mttr(tmp_path: Path) -> None:
    journal = load(
        write_journal(tmp_path, "run-1", {}, {"name": "backend-hung", "recovered": False})
    )
    record = record_of(journal, env="docker", commit="abc123")
    assert (record.run_id, record.profile, record.env, record.commit) == (
        "run-1",
        "ci",
        "docker",
        "abc123",
    )
    ok, bad = record.drills
    assert (ok.drill, ok.outcome, ok.mttd_s, ok.mttr_s) == ("backend-killed", "passed", 3.0, 6.0)
    assert (bad.outcome, bad.mttd_s, bad.mttr_s) == ("breached", 3.0, None)
    assert ok.measured["time_to_detect"] == 1.2


def test_append_then_read_round_trips_in_order(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    for run_id in ("run-1", "run-2"):
        append_run(history, record_of(load(write_journal(tmp_path, run_id, {})), "docker"))
    assert [r.run_id for r in read_history(history)] == ["run-1", "run-2"]
    assert read_history(history)[1] == record_of(
        load(tmp_path / "run-2" / "journal.json"), "docker"
    )


def test_the_reader_tolerates_blank_lines_unknown_fields_and_a_missing_file(
    tmp_path: Path,
) -> None:
    assert read_history(tmp_path / "none.jsonl") == []
    history = tmp_path / "history.jsonl"
    history.write_text(
        "\n"
        + json.dumps(
            {"run_id": "r1", "future": 1, "drills": [{"drill": "d", "outcome": "passed", "x": 2}]}
        )
        + "\n\n"
    )
    [run] = read_history(history)
    assert run.drills[0].mttr_s is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"run_id": "r2", "drills": [', r"history\.jsonl:3: not a JSON run record"),
        ('["r2"]', r"history\.jsonl:3: expected a JSON object with a string 'run_id'"),
        (
            '{"run_id": "r2", "drills": [{"drill": "d", "outcome": "passed", "mttr_s": "slow"}]}',
            r"history\.jsonl:3 drills\[0\]\.mttr_s: expected a number of seconds or null",
        ),
        (
            '{"run_id": "r2", "drills": [{"drill": "d"}]}',
            r"history\.jsonl:3 drills\[0\]: drill 'd' has no string 'outcome'",
        ),
    ],
)
def test_a_corrupt_line_is_named(tmp_path: Path, line: str, expected: str) -> None:
    history = tmp_path / "history.jsonl"
    good = json.dumps({"run_id": "r1", "drills": []})
    history.write_text(f"{good}\n\n{line}\n")
    with pytest.raises(ConfigError, match=expected):
        read_history(history)


def test_the_handler_appends_at_the_end_of_a_run_and_skips_an_empty_one(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    empty = JsonJournal(tmp_path, "run-0", "ci")
    RunHistory(empty, history, env="docker").run_finished([])
    assert not history.exists()
    journal = JsonJournal(tmp_path, "run-1", "ci")
    journal.data = load(write_journal(tmp_path, "run-1", {}))
    RunHistory(journal, history, env="docker", commit="c0ffee").run_finished([])
    [run] = read_history(history)
    assert (run.run_id, run.commit, [d.drill for d in run.drills]) == (
        "run-1",
        "c0ffee",
        ["backend-killed"],
    )

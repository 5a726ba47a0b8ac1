"""`drillbook run` aborted while a breached drill reverts, on fakes (no lab): the revert
finishes, the drill is in the report with its breach and a note, and the run stops (130)."""

from __future__ import annotations

import argparse
import json
import signal
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drillbook.cli import _drills, main
from drillbook.cli._subject import Subject
from drillbook.drills import DrillRunner
from support.fake_drill import FakeLab, Service, breached_drill, interrupt, signal_self


class FakeTier:
    """The lab of a run without a lab: the runner on fakes, probes only."""

    def __init__(self, args: argparse.Namespace, subject: Any) -> None:
        self.subject = subject
        self.name = str(args.name)
        self.stopped = False

    def check(self) -> None:
        return None

    def attach(self, drills: list[Any]) -> None:
        return None

    def start(self) -> Any:
        return FakeLab()

    def runnable(self, drills: list[Any]) -> list[Any]:
        return drills

    def runner(
        self, profile: Any, handlers: list[Any], evidence: Path, operator: Any = None
    ) -> DrillRunner:
        return DrillRunner(FakeLab(), profile, handlers, detection=None)  # type: ignore[arg-type]

    def state(self) -> dict[str, Any]:
        return {}

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def signals_kept() -> Iterator[None]:
    """main() turns SIGTERM into KeyboardInterrupt for good: pytest gets its own back."""
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in before.items():
        signal.signal(sig, handler)


def _run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_revert: Callable[[], None]
) -> tuple[int, Service, Service, Path]:
    monkeypatch.setenv("DRILLBOOK_LOCK_DIR", str(tmp_path / "locks"))
    first, second = Service(), Service()
    drills = [
        breached_drill("svc-down", first, on_revert=on_revert),
        breached_drill("svc-down-again", second),
    ]
    monkeypatch.setattr(_drills, "Tier", FakeTier)
    monkeypatch.setattr(Subject, "drills", lambda self, env: drills)
    report = tmp_path / "reports"
    code = main(["run", "--report", str(report), "--name", "abort-test"])
    [run_dir] = [p for p in report.iterdir() if p.is_dir()]
    return code, first, second, run_dir


@pytest.mark.usefixtures("signals_kept")
@pytest.mark.parametrize(("sig", "how"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")])
def test_an_abort_while_a_breached_drill_reverts_waits_and_reports_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sig: signal.Signals,
    how: str,
) -> None:
    code, first, second, run_dir = _run(tmp_path, monkeypatch, signal_self(sig))
    assert code == 130
    journal = json.loads((run_dir / "journal.json").read_text())
    [entry] = journal["drills"]
    assert (entry["drill"], entry["outcome"]) == ("svc-down", "breached")
    assert [b["measure"] for b in entry["breaches"]] == ["time_to_recover"]
    assert entry["reverted"] is True
    assert entry["steady_after"] is True
    assert [(n["by"], n["text"]) for n in entry["notes"]] == [
        ("drillbook", f"run aborted ({how}) while this drill reverted: the run stopped after it")
    ]
    assert journal["passed"] is False
    [case] = ET.parse(run_dir / "junit.xml").getroot().iter("testcase")
    assert case.get("name") == "svc-down"
    assert case.find("failure") is not None
    history = (tmp_path / "reports" / "history.jsonl").read_text().splitlines()
    assert [d["drill"] for d in json.loads(history[-1])["drills"]] == ["svc-down"]
    assert first.up  # the revert was not cut short
    assert second.broken == 0  # the run stopped after the drill
    assert f"drillbook: {how}: stopping once this drill has reverted" in capsys.readouterr().err


@pytest.mark.usefixtures("signals_kept")
def test_a_revert_cut_short_still_reports_the_breached_drill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, second, run_dir = _run(tmp_path, monkeypatch, interrupt)
    assert code == 130
    assert second.broken == 0
    journal = json.loads((run_dir / "journal.json").read_text())
    [entry] = journal["drills"]
    assert (entry["drill"], entry["outcome"], entry["reverted"]) == ("svc-down", "breached", False)
    assert [b["measure"] for b in entry["breaches"]] == ["time_to_recover"]
    assert "REVERT INTERRUPTED" in entry["error"]
    assert journal["passed"] is False
    [case] = ET.parse(run_dir / "junit.xml").getroot().iter("testcase")
    assert case.get("name") == "svc-down"

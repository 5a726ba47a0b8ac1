"""The suite's budget check, a pytest plugin loaded by the top-level conftest.

At the end of a session (on the xdist controller when the suite runs in parallel) it prints the
wall time, the tier, the number of workers and the slowest 15 tests (setup + call + teardown,
with the setup's share: a lab started by a fixture shows there), and appends one line to
``reports/bench/suite-history.jsonl`` (``DRILLBOOK_SUITE_HISTORY`` overrides the path; empty
turns the record off) so ``bench/suite.py`` can show the suite's growth per commit and tier.
A partial run (``-k``, ``-m``, a file, ``-x``) is printed when it took a minute or more, and
never recorded.

The budget is printed, not enforced: a timed test would fail on a noisy machine, and the
figure belongs to the benchmarks (the brief's rule). ``make test``'s budget is 22 minutes with
caches warm (issue 19).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

#: minutes ``make test`` may take with caches warm on the 2-core machine (issue 19)
BUDGET_MIN = 22.0
SLOWEST = 15


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _tier(config: pytest.Config) -> str:
    name = config.getoption("hypothesis_profile", None) or os.environ.get("HYPOTHESIS_PROFILE")
    return str(name or "dev")


def _workers(config: pytest.Config) -> int:
    n = getattr(config.option, "numprocesses", None)
    return int(n) if isinstance(n, int) and n > 0 else 1


def _full_run(config: pytest.Config) -> bool:
    """True when the session ran what it runs by default (the ``testpaths``), whole: no test
    paths named, no ``-k``, ``-m``, ``-x`` or ``--lf``."""
    opt = config.option
    return (
        config.args_source != pytest.Config.ArgsSource.ARGS
        and not opt.keyword
        and not opt.markexpr
        and not opt.maxfail
        and not getattr(opt, "lf", False)
    )


def _commit(root: Path) -> str:
    """The checked-out commit, abbreviated as ``git log --oneline`` shows it."""
    from drillbook.reporting import git_commit  # at the session's end: start-up stays light

    commit = git_commit(root)
    return commit[:7] if commit else "unknown"


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SuiteBudget(config), "drillbook-suite-budget")


class SuiteBudget:
    """The session's durations and outcomes per test, its record at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.monotonic()
        self.durations: dict[str, dict[str, float]] = defaultdict(
            lambda: {"setup": 0.0, "call": 0.0, "teardown": 0.0}
        )
        self.outcomes: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid][report.when] += report.duration
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.when == "call" or report.skipped:
            self.outcomes.setdefault(report.nodeid, report.outcome)

    def summary(self, wall_s: float) -> dict[str, object]:
        """The record of this session: wall time, counts, the slowest tests."""
        config = self.config
        totals = sorted(
            ((sum(d.values()), d["setup"], nodeid) for nodeid, d in self.durations.items()),
            reverse=True,
        )
        counts: dict[str, int] = defaultdict(int)
        for outcome in self.outcomes.values():
            counts[outcome] += 1
        return {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "commit": _commit(config.rootpath),
            "tier": _tier(config),
            "workers": _workers(config),
            "full": _full_run(config),
            "wall_s": round(wall_s, 1),
            "tests": len(self.outcomes),
            "outcomes": dict(counts),
            "slowest": [
                {"test": nodeid, "total_s": round(total, 2), "setup_s": round(setup, 2)}
                for total, setup, nodeid in totals[:SLOWEST]
            ],
        }

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        config = self.config
        if _is_worker(config) or not self.durations:
            return
        record = self.summary(time.monotonic() - self.started)
        if not record["full"] and float(record["wall_s"]) < 60:  # type: ignore[arg-type]
            return  # a quick partial run: nothing worth a budget
        tr = terminalreporter
        tr.section("suite budget")
        for row in record["slowest"]:  # type: ignore[attr-defined]
            setup = f" (setup {row['setup_s']:.1f} s)" if row["setup_s"] >= 1 else ""
            tr.write_line(f"{row['total_s']:8.1f} s  {row['test']}{setup}")
        minutes = float(record["wall_s"]) / 60  # type: ignore[arg-type]
        verdict = ""
        if record["full"]:
            over = minutes - BUDGET_MIN
            verdict = f"; budget {BUDGET_MIN:.0f} min: " + (
                "within" if over <= 0 else f"OVER by {over:.1f} min"
            )
        partial = "" if record["full"] else ", partial run"
        tr.write_line(
            f"suite: {record['tests']} tests in {minutes:.1f} min, tier {record['tier']}, "
            f"{record['workers']} worker(s){partial}{verdict}"
        )
        default = config.rootpath / "reports" / "bench" / "suite-history.jsonl"
        path = os.environ.get("DRILLBOOK_SUITE_HISTORY", str(default))
        if path and record["full"]:
            out = Path(path)
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")
            tr.write_line(f"recorded in {out} (python bench/suite.py shows the growth per commit)")

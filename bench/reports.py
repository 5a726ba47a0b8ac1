"""Report speed: rendering a nightly-sized run (23 drills) to index.html, the page in headless
Chromium, `allure generate` of its results, and trend detection over a long history.

Targets: a run's page renders in <= 1 s and stays <= 2 MB; trends over 1,000 runs x 23 drills
in <= 2 s (they run at the end of every `drillbook run` and in CI).

    python bench/reports.py [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic journals of the report tests

from drillbook.errors import DrillbookError  # noqa: E402
from drillbook.reporting import (  # noqa: E402
    AllureCommandLine,
    AllureResults,
    DrillRecord,
    HeadlessChromium,
    RunRecord,
    append_run,
    find_regressions,
    read_history,
    write_run_html,
)
from support.journals import synthetic_result, write_journal  # noqa: E402

DRILLS = 23


class _Drill:
    def __init__(self, name: str) -> None:
        self.name, self.alert = name, "TradingBotDown"


def _median_s(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(1, min(args.runs, 20))
    work = Path(tempfile.mkdtemp(prefix="drillbook-bench-reports-"))
    try:
        specs = [
            {
                "name": f"drill-{i:02d}",
                "recover_at": 4 + i % 7,
                "recovered": i % 5 != 0,
                "steps": tuple((f"step {j}", 0.3 + j / 10) for j in range(1 + i % 9)),
            }
            for i in range(DRILLS)
        ]
        journal = write_journal(work, "run-bench", *specs)
        render = _median_s(lambda: write_run_html(journal.parent), runs)
        page = journal.parent / "index.html"
        print(f"render index.html, {DRILLS} drills: {render * 1000:.0f} ms median ({runs} runs)")
        print(f"page size: {page.stat().st_size / 1024:.0f} KiB")

        chromium = HeadlessChromium()
        try:
            load = _median_s(lambda: chromium.dump_dom(page), min(runs, 3))
            print(f"headless Chromium load + dump: {load:.2f} s median")
        except DrillbookError as exc:  # a bench prints what it could not measure
            print(f"headless Chromium: not measured ({exc.message})")

        allure_dir = work / "allure-results"
        allure = AllureResults(allure_dir, "bench")
        for spec in specs:
            result = synthetic_result(**spec, health=allure.health_log)  # type: ignore[arg-type]
            allure.drill_finished(_Drill(result.drill), result)
        try:
            cli = AllureCommandLine()
            gen = _median_s(lambda: cli.generate(allure_dir, work / "allure-report"), min(runs, 3))
            print(f"allure generate, {DRILLS} drills: {gen:.2f} s median")
        except Exception as exc:  # a bench prints what it could not measure
            print(f"allure generate: not measured ({exc})")

        rng = random.Random(7)
        history = work / "history.jsonl"
        for r in range(1000):
            drills = tuple(
                DrillRecord(f"drill-{i:02d}", "passed", "A", rng.uniform(2, 4), rng.uniform(4, 9))
                for i in range(DRILLS)
            )
            append_run(history, RunRecord(f"run-{r:04d}", "2026-12-01T00:00:00Z", drills=drills))
        read = _median_s(lambda: read_history(history), runs)
        loaded = read_history(history)
        judge = _median_s(lambda: find_regressions(loaded), runs)
        print(
            f"history of 1,000 runs x {DRILLS} drills ({history.stat().st_size / 1e6:.1f} MB): "
            f"read {read * 1000:.0f} ms, regressions {judge * 1000:.0f} ms"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

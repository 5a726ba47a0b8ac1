"""The test suite's wall time per tier and commit, from the records every full pytest session
appends to ``reports/bench/suite-history.jsonl`` (tests/support/suite_budget.py): growth is
seen per commit. With ``--run TIER`` it first runs the suite of that tier (what ``make test``
runs, ``PROFILE=TIER``), which records one more line.

Budget (issue 19): ``make test`` (tier ci) <= 22 min with caches warm on the 2-core machine.

    python bench/suite.py [--history FILE] [--last 20] [--run ci|nightly]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "reports" / "bench" / "suite-history.jsonl"
BUDGET_MIN = {"ci": 22.0}


def read(path: Path) -> list[dict[str, object]]:
    """The records, oldest first; a line that is not a record is named and skipped."""
    records = []
    if not path.is_file():
        return records
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            print(f"{path}:{n}: not a JSON record ({exc.msg}); skipped", file=sys.stderr)
    return records


def table(records: list[dict[str, object]]) -> str:
    rows = [f"{'when':20} {'commit':9} {'tier':8} {'workers':>7} {'tests':>6} {'wall':>9}  budget"]
    for r in records:
        minutes = float(r["wall_s"]) / 60  # type: ignore[arg-type]
        budget = BUDGET_MIN.get(str(r["tier"]))
        verdict = "-" if budget is None else ("ok" if minutes <= budget else "OVER")
        failed = dict(r.get("outcomes", {})).get("failed", 0)  # type: ignore[call-overload]
        if failed:
            verdict += f" ({failed} failed)"
        rows.append(
            f"{r['when']!s:20} {r['commit']!s:9} {r['tier']!s:8} {r['workers']!s:>7} "
            f"{r['tests']!s:>6} {minutes:7.1f} m  {verdict}"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--history", type=Path, default=HISTORY)
    parser.add_argument("--last", type=int, default=20, help="records shown (default 20)")
    parser.add_argument("--run", choices=("ci", "nightly"), help="run the suite of TIER first")
    args = parser.parse_args()
    if args.run:
        env = {**os.environ, "PROFILE": args.run, "DRILLBOOK_SUITE_HISTORY": str(args.history)}
        rc = subprocess.run(["make", "test"], cwd=ROOT, env=env, check=False).returncode
        print(f"make test (PROFILE={args.run}) exited {rc}", file=sys.stderr)
    records = read(args.history)
    if not records:
        print(f"no suite records in {args.history}: run the whole suite (make test) first")
        return 1
    print(table(records[-args.last :]))
    last = records[-1]
    print("\nslowest of the last run:")
    for row in last.get("slowest", []):  # type: ignore[attr-defined]
        print(f"  {row['total_s']:8.1f} s  {row['test']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Every benchmark, one table: lab cold start, stack to trading, each drill's MTTD, MTTR and
framework overhead (a nightly ``drillbook run``), detection latency against its bound, fake
exchange throughput, control plane start, suite wall time. Written to
``reports/bench/<date>-<commit>.json`` for ``bench/compare.py A.json B.json``.

    python bench/all.py [--quick] [--only lab,stack,...] [--drills NAME ...] [--out reports/bench]

Parts: lab (bench/lab_startup.py), stack (stack_startup.py), overhead (drill_overhead.py),
exchange (exchange_throughput.py), detection (detection_latency.py), controlplane
(k8s_controlplane.py), drills (``drillbook run --profile nightly``: MTTD, MTTR, overhead per
drill and the suite's wall time), suite (the test suite's last recorded wall time per tier,
bench/suite.py). Each runs as its own process; one that fails is reported in
the table and the others still run. ``--quick`` runs each part once (medians of one sample).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
Row = tuple[str, float | None, str, str]  # figure, value, unit, target or bound

SETTLE_S = {"ci": 2.0, "nightly": 5.0, "gameday": 10.0}


def _script(name: str, out: Path, args: list[str], timeout_s: float) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(BENCH / name), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        cwd=ROOT,
    )
    took = time.monotonic() - started
    if proc.returncode not in (0, 1):  # 1: a target missed; the figures are still there
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{name} exited {proc.returncode}: {' | '.join(tail)}")
    print(proc.stdout, end="", file=sys.stderr)
    return took, proc.stdout


def _load(out: Path, name: str) -> Any:
    return json.loads((out / name).read_text())


def lab(out: Path, quick: bool) -> list[Row]:
    _script("lab_startup.py", out, ["--skip-cold", "--runs", "1" if quick else "3"], 1800)
    f = _load(out, "lab_startup.json")["figures"]
    return [
        ("lab cold start: data services up to healthy", f["lab_up_s"], "s", "<= 15"),
        ("lab cold start: whole default lab up to healthy", f["stack_up_s"], "s", "<= 25"),
        ("lab down", f["lab_down_s"], "s", "<= 5"),
        ("image build, unchanged recipe", f["build_cached_s"], "s", "<= 2"),
    ]


def stack(out: Path, quick: bool) -> list[Row]:
    _script("stack_startup.py", out, ["--runs", "1" if quick else "3"], 900)
    d = _load(out, "stack_startup.json")
    return [
        ("stack up to trading (first trade)", _median(d["to_trading_s"]), "s", "<= 25"),
        ("backend restart to healthy", _median(d["restart_s"]), "s", "<= 3"),
    ]


def overhead(out: Path, quick: bool) -> list[Row]:
    _script("drill_overhead.py", out, ["--runs", "2" if quick else "5"], 900)
    m = _load(out, "drill_overhead.json")["median"]
    return [("framework overhead per drill (redis killed)", m["overhead_s"], "s", "<= 1")]


def exchange(out: Path, quick: bool) -> list[Row]:
    args = ["--seconds", "2", "--soak-orders", "5000"] if quick else []
    _script("exchange_throughput.py", out, args, 900)
    d = _load(out, "exchange_throughput.json")
    return [
        ("fake exchange GET ticker/price", d["ticker_rps"], "req/s", ">= 1500"),
        ("fake exchange signed POST order", d["order_rps"], "req/s", ">= 500"),
        ("fake exchange p99 at 200 req/s", d["p99_ms"], "ms", "<= 20"),
    ]


def detection(out: Path, quick: bool) -> list[Row]:
    _script("detection_latency.py", out, ["--runs", "1" if quick else "3"], 1800)
    alerts = _load(out, "detection_latency.json")["alerts"]
    return [
        (f"detection latency {a}", r["median_s"], "s", f"<= bound {r['bound_s']:g} + 1")
        for a, r in alerts.items()
    ]


def controlplane(out: Path, quick: bool) -> list[Row]:
    _script("k8s_controlplane.py", out, ["--runs", "1" if quick else "3"], 1800)
    d = _load(out, "k8s_controlplane.json")
    return [("control plane start (cached, 3 kwok nodes Ready)", _median(d["up_s"]), "s", "<= 30")]


def drills(out: Path, quick: bool, names: list[str], profile: str = "nightly") -> list[Row]:
    report = out / "drill-runs"
    started = time.monotonic()
    lab = f"bench-drills-{os.getpid()}"
    cmd = [sys.executable, "-m", "drillbook", "run", *names, "--profile", profile, "--name", lab]
    proc = subprocess.run(
        [*cmd, "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
        cwd=ROOT,
    )
    wall = time.monotonic() - started
    journals = sorted(report.glob("*/journal.json"), key=lambda p: p.stat().st_mtime)
    if not journals:
        raise RuntimeError(f"drillbook run wrote no journal: {proc.stderr.strip()[-300:]}")
    rows: list[Row] = [
        (f"suite wall time ({len(names) or 'all'} drill(s), {profile})", wall, "s", "<= 900")
    ]
    for d in json.loads(journals[-1].read_text())["drills"]:
        m = d["measured_s"]
        recover, clear = m.get("time_to_recover"), m.get("time_to_clear") or 0.0
        bound = next((b["seconds"] for b in d["budgets"] if b["measure"] == "time_to_alert"), None)
        name = d["drill"]  # the figure's key in the JSON: the same from commit to commit
        rows.append((f"{name} MTTD (probe)", m.get("time_to_detect"), "s", d["outcome"]))
        if "time_to_alert" in m:
            rows.append((f"{name} alert", m["time_to_alert"], "s", f"<= bound {bound:g}"))
        rows.append((f"{name} MTTR", recover, "s", d["outcome"]))
        if recover is not None:
            # the clock marks recovered where the healthy streak began: the settle period and
            # the wait for the alert to clear both run after it, side by side
            over = d["wall_s"] - recover - max(clear, SETTLE_S[profile])
            rows.append((f"{name} framework overhead", over, "s", "wall - MTTR - settle|clear"))
    return rows


def suite(out: Path, quick: bool) -> list[Row]:
    """The test suite's last recorded wall time per tier (tests/support/suite_budget.py writes
    one record per full pytest session; ``python bench/suite.py --run ci`` makes one)."""
    from suite import HISTORY, read  # bench/suite.py, beside this script

    last = {str(r["tier"]): r for r in read(HISTORY)}  # the newest record of each tier
    if not last:
        raise RuntimeError(f"no suite record in {HISTORY}: run make test first")
    return [
        (
            f"test suite wall time, tier {tier} ({r['tests']} tests, {r['workers']} worker(s), "
            f"{r['commit']})",
            float(r["wall_s"]) / 60,
            "min",
            "<= 22" if tier == "ci" else "printed",
        )
        for tier, r in sorted(last.items())
    ]


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def _commit() -> str:
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (proc.stdout.strip() or "nogit") + ("-dirty" if dirty else "")


def _load_note() -> str:
    load1, load5, _ = os.getloadavg()
    return f"load average {load1:.2f} (1 min) {load5:.2f} (5 min) on {os.cpu_count()} cores"


def table(rows: list[Row]) -> str:
    width = max([len(r[0]) for r in rows] + [6])
    lines = [f"{'figure':<{width}}  {'value':>10}  {'unit':<6} target/bound"]
    for figure, value, unit, target in rows:
        shown = "failed" if value is None else f"{value:,.2f}"
        lines.append(f"{figure:<{width}}  {shown:>10}  {unit:<6} {target}")
    return "\n".join(lines)


def main() -> int:
    parts: dict[str, Callable[[Path, bool], list[Row]]] = {
        "lab": lab,
        "stack": stack,
        "overhead": overhead,
        "exchange": exchange,
        "detection": detection,
        "controlplane": controlplane,
        "suite": suite,
    }
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one sample per figure")
    parser.add_argument("--only", default="", help=f"comma-separated: {','.join(parts)},drills")
    parser.add_argument("--drills", nargs="*", default=[], help="drills for the drills part")
    parser.add_argument("--out", default="reports/bench")
    args = parser.parse_args()
    chosen = [p for p in args.only.split(",") if p] or [*parts, "drills"]
    unknown = sorted(set(chosen) - {*parts, "drills"})
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(unknown)}; parts: {', '.join(parts)}")
    started = time.monotonic()
    rows: list[Row] = []
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="drillbook-bench-") as tmp:
        for part in chosen:
            print(f"bench: {part}", file=sys.stderr)
            try:
                if part == "drills":  # its report (journal) kept beside the result
                    rows += drills(Path(args.out), args.quick, list(args.drills))
                else:
                    rows += parts[part](Path(tmp), args.quick)
            except (RuntimeError, subprocess.TimeoutExpired, OSError, KeyError) as exc:
                errors[part] = str(exc)
                rows.append((f"{part} (did not finish)", None, "", str(exc)[:80]))
    total = time.monotonic() - started
    print(table(rows))
    note = _load_note()
    print(f"bench wall time {total:.0f}s; {note}")
    commit = _commit()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{commit}.json"
    payload = {
        "commit": commit,
        "quick": args.quick,
        "parts": chosen,
        "load": note,
        "wall_s": total,
        "figures": {f: {"value": v, "unit": u, "target": t} for f, v, u, t in rows},
        "errors": errors,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written: {path}  (compare: python bench/compare.py OLD.json {path})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

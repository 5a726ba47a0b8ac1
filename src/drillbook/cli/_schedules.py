"""``drillbook replay FILE`` and ``drillbook schedules run``: fault schedules on a fresh lab."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

from drillbook.cli._subject import add_project_option, subject_of
from drillbook.environments.docker import DockerLab, LabSettings
from drillbook.errors import ConfigError
from drillbook.schedules import (
    PROFILES,
    Schedule,
    Verdict,
    check_invariants,
    failed,
    failure_path,
    forget_unfilled,
    load_schedule,
    profile_for,
    run_schedule,
    save_failure,
    wait_trading,
)

__all__ = ["register"]

SERVICES = ("backend",)  # the data services, the exchange and the bot: what schedules touch


def register(sub: Any) -> None:
    replay = sub.add_parser("replay", help="re-run a saved fault schedule on a fresh lab")
    replay.add_argument("file", metavar="FILE", help="a schedule JSON (reports/schedules/*.json)")
    replay.add_argument("--name", default=None, help="lab name (default replay-<random>)")
    replay.add_argument("--keep-lab", action="store_true", help="leave the lab up afterwards")
    add_project_option(replay)
    replay.set_defaults(handler=_replay)

    sch = sub.add_parser("schedules", help="Hypothesis-generated fault schedules on a lab")
    ssub = sch.add_subparsers(dest="schedules_command", required=True, metavar="ACTION")
    run = ssub.add_parser("run", help="generate schedules, check invariants, shrink a failure")
    run.add_argument("--profile", default="ci", choices=tuple(PROFILES), help="default ci")
    run.add_argument("--name", default=None, help="lab name (default schedules-<random>)")
    run.add_argument("--report", default="reports/schedules", metavar="DIR")
    run.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default random)")
    add_project_option(run)
    run.set_defaults(handler=_run)


def _reference_stack_only(args: argparse.Namespace) -> None:
    """Fault schedules check the trading bot's own invariants (the ledger against the
    exchange's fills, no order twice): a project's lab has none of them yet."""
    subject = subject_of(args)
    if not subject.builtin:
        raise ConfigError(
            f"drillbook {args.command} with {subject.label}: fault schedules check the "
            "reference stack's trading invariants (ledger vs the exchange's fills), which a "
            "project does not declare yet",
            hint="drill the project with `drillbook run --project DIR` (its invariants: sql:, "
            "http: in the drill files); schedules run on the reference stack",
        )


def _lab(name: str | None, prefix: str) -> DockerLab:
    return DockerLab(
        LabSettings(name=name or f"{prefix}-{uuid.uuid4().hex[:6]}", services=SERVICES)
    )


def _print(verdicts: list[Verdict]) -> None:
    for v in verdicts:
        print(f"  {'ok  ' if v.ok else 'FAIL'} {v.name}: {v.detail}")


def _say(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr)


def _replay(args: argparse.Namespace) -> int:
    _reference_stack_only(args)
    schedule = load_schedule(Path(args.file))  # a bad file fails before any lab starts
    lab = _lab(args.name, "replay")
    print(f"replay {args.file}: {schedule.describe()} on lab {lab.name!r}", file=sys.stderr)
    if schedule.note:
        print(f"  saved because: {schedule.note}", file=sys.stderr)
    lab.start(on_event=_say)
    try:
        wait_trading(lab)
        run = run_schedule(lab, schedule, say=_say)
        verdicts = check_invariants(lab, run)
    finally:
        if not args.keep_lab:
            lab.stop()
    _print(verdicts)
    bad = failed(verdicts)
    print(f"replay: {len(verdicts) - len(bad)}/{len(verdicts)} invariant(s) held")
    return 1 if bad else 0


def _run(args: argparse.Namespace) -> int:
    from hypothesis import given, seed, settings

    _reference_stack_only(args)
    profile = profile_for(args.profile)
    lab = _lab(args.name, "schedules")
    last: dict[str, Any] = {}
    path = failure_path(Path(args.report))
    print(
        f"schedules: profile {profile.name} ({profile.max_examples} example(s), up to "
        f"{profile.max_events} fault(s) in {profile.budget_s:g}s) on lab {lab.name!r}",
        file=sys.stderr,
    )

    kwargs = profile.settings_kwargs()
    if args.seed is not None:  # a seed asked for is a seed used (ci is derandomized otherwise)
        kwargs["derandomize"] = False

    @settings(**kwargs)  # type: ignore[arg-type]
    @given(profile.strategy())
    def prop(schedule: Schedule) -> None:
        print(f"schedule: {schedule.describe()}", file=sys.stderr)
        forget_unfilled(lab)  # a previous example's damage is not this one's
        run = run_schedule(lab, schedule, say=_say)
        verdicts = check_invariants(lab, run)
        if failed(verdicts):
            last.update(schedule=schedule, verdicts=verdicts)
            save_failure(schedule, verdicts, path)  # overwritten until the shrunk one stays
            raise AssertionError("; ".join(f"{v.name}: {v.detail}" for v in failed(verdicts)))

    if args.seed is not None:
        prop = seed(args.seed)(prop)
    lab.start(on_event=_say)
    try:
        wait_trading(lab)
        prop()
    except Exception:  # the shrunk failure (AssertionError), or Hypothesis' Flaky around it
        if "schedule" not in last:
            raise
        print(f"schedules: failing schedule (shrunk): {last['schedule'].describe()}")
        _print(last["verdicts"])
        print(f"saved: {path}  (re-run it: drillbook replay {path})")
        return 1
    finally:
        lab.stop()
    print(f"schedules: {profile.max_examples} schedule(s) at most, every invariant held")
    return 0

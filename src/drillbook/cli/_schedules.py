"""``drillbook replay FILE`` and ``drillbook schedules run``: fault schedules on a fresh lab
(or one that is up: ``--lab``), of the reference stack or of a project (``--project DIR``: its
drills' faults and invariants, :func:`drillbook.schedules.drill_menu`)."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

from drillbook.cli._subject import Subject, add_project_option, subject_of
from drillbook.environments.docker import DockerLab, existing_lab
from drillbook.errors import ConfigError
from drillbook.schedules import (
    PROFILES,
    REFERENCE,
    Menu,
    Schedule,
    Verdict,
    check_invariants,
    drill_menu,
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
    replay.add_argument(
        "--lab",
        default=None,
        metavar="NAME",
        help="replay on this lab, already up (`drillbook lab up`), and leave it up",
    )
    add_project_option(replay)
    replay.set_defaults(handler=_replay)

    sch = sub.add_parser("schedules", help="Hypothesis-generated fault schedules on a lab")
    ssub = sch.add_subparsers(dest="schedules_command", required=True, metavar="ACTION")
    run = ssub.add_parser("run", help="generate schedules, check invariants, shrink a failure")
    run.add_argument("--profile", default="ci", choices=tuple(PROFILES), help="default ci")
    run.add_argument("--name", default=None, help="lab name (default schedules-<random>)")
    run.add_argument(
        "--lab",
        default=None,
        metavar="NAME",
        help="run on this lab, already up (`drillbook lab up`), and leave it up",
    )
    run.add_argument("--report", default="reports/schedules", metavar="DIR")
    run.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default random)")
    run.add_argument(
        "--examples",
        type=_examples,
        default=None,
        metavar="N",
        help="at most N schedules (1 to 1000; default: the profile's)",
    )
    add_project_option(run)
    run.set_defaults(handler=_run)


def _examples(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number from 1 to 1000")
    return n


def _menu(subject: Subject) -> Menu:
    """What the schedules draw from: the reference stack's menu, or the project's drills'
    faults with their invariants (ConfigError when it has no drill with a fault)."""
    if subject.builtin:
        return REFERENCE
    assert subject.project is not None
    try:
        return drill_menu(subject.drills("docker"), subject.label)
    except ValueError as exc:
        raise ConfigError(
            f"{subject.project.root}/drillbook.yaml: drills: {exc}",
            hint="fault schedules combine the drills' faults: give a drill a fault:",
        ) from None


def _lab(args: argparse.Namespace, subject: Subject, prefix: str) -> tuple[DockerLab, bool]:
    """The lab to run on and whether this command started it: ``--lab NAME`` (one that is up,
    left up) or a fresh one (``--name``, default ``<prefix>-<random>``)."""
    up = getattr(args, "lab", None)
    if up:
        settings = subject.lab_settings(up) if not subject.builtin else None
        needs = SERVICES if subject.builtin else None
        return existing_lab(up, needs, settings=settings), False
    name = args.name or f"{prefix}-{uuid.uuid4().hex[:6]}"
    services = SERVICES if subject.builtin else None
    return DockerLab(subject.lab_settings(name, services=services)), True


def _steady(lab: DockerLab, subject: Subject) -> None:
    """Before the first schedule: the bot has traded (the reference stack); a project's lab
    is steady once its services are healthy, which starting it waited for."""
    if subject.builtin:
        wait_trading(lab)


def _print(verdicts: list[Verdict]) -> None:
    for v in verdicts:
        print(f"  {'ok  ' if v.ok else 'FAIL'} {v.name}: {v.detail}")


def _say(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr)


def _replay(args: argparse.Namespace) -> int:
    subject = subject_of(args)
    menu = _menu(subject)
    schedule = load_schedule(Path(args.file), menu)  # a bad file fails before any lab starts
    lab, started = _lab(args, subject, "replay")
    print(
        f"replay {args.file}: {schedule.describe()} on lab {lab.name!r} ({menu.label})",
        file=sys.stderr,
    )
    if schedule.note:
        print(f"  saved because: {schedule.note}", file=sys.stderr)
    if started:
        lab.start(on_event=_say)
    try:
        _steady(lab, subject)
        run = run_schedule(lab, schedule, menu=menu, say=_say)
        verdicts = check_invariants(lab, run, menu=menu)
    finally:
        if started and not args.keep_lab:
            lab.stop()
    _print(verdicts)
    bad = failed(verdicts)
    print(f"replay: {len(verdicts) - len(bad)}/{len(verdicts)} invariant(s) held")
    return 1 if bad else 0


def _run(args: argparse.Namespace) -> int:
    from hypothesis import given, seed, settings

    subject = subject_of(args)
    menu = _menu(subject)
    profile = profile_for(args.profile)
    lab, started = _lab(args, subject, "schedules")
    last: dict[str, Any] = {}
    path = failure_path(Path(args.report))
    kinds = ", ".join(menu.kinds) if not menu.reference else "the reference stack's faults"
    examples = args.examples or profile.max_examples
    print(
        f"schedules: profile {profile.name} ({examples} example(s), up to "
        f"{profile.max_events} fault(s) in {profile.budget_s:g}s) on lab {lab.name!r}: {kinds}",
        file=sys.stderr,
    )

    kwargs = profile.settings_kwargs()
    if args.examples is not None:
        kwargs["max_examples"] = args.examples
    if args.seed is not None:  # a seed asked for is a seed used (ci is derandomized otherwise)
        kwargs["derandomize"] = False

    @settings(**kwargs)  # type: ignore[arg-type]
    @given(profile.strategy(menu))
    def prop(schedule: Schedule) -> None:
        print(f"schedule: {schedule.describe()}", file=sys.stderr)
        if menu.reference:
            forget_unfilled(lab)  # a previous example's damage is not this one's
        run = run_schedule(lab, schedule, menu=menu, say=_say)
        verdicts = check_invariants(lab, run, menu=menu)
        if failed(verdicts):
            last.update(schedule=schedule, verdicts=verdicts)
            save_failure(schedule, verdicts, path)  # overwritten until the shrunk one stays
            raise AssertionError("; ".join(f"{v.name}: {v.detail}" for v in failed(verdicts)))

    if args.seed is not None:
        prop = seed(args.seed)(prop)
    if started:
        lab.start(on_event=_say)
    try:
        _steady(lab, subject)
        prop()
    except Exception:  # the shrunk failure (AssertionError), or Hypothesis' Flaky around it
        if "schedule" not in last:
            raise
        print(f"schedules: failing schedule (shrunk): {last['schedule'].describe()}")
        _print(last["verdicts"])
        project = f" --project {args.project}" if getattr(args, "project", None) else ""
        print(f"saved: {path}  (re-run it: drillbook replay {path}{project})")
        return 1
    finally:
        if started:
            lab.stop()
    print(f"schedules: {examples} schedule(s) at most, every invariant held")
    return 0

"""The ``drillbook`` command line: one sub-command module per noun (lab, images, ...)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from drillbook.cli import (
    _alerts,
    _drills,
    _experiments,
    _gameday,
    _images,
    _k8s,
    _lab,
    _project,
    _report,
    _runbook,
    _schedules,
)
from drillbook.errors import ConfigError, DrillbookError

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drillbook",
        description="Prove that runbooks work: inject the failure, run the runbook, time recovery.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _drills.register(sub)
    _lab.register(sub)
    _images.register(sub)
    _alerts.register(sub)
    _experiments.register(sub)
    _k8s.register(sub)
    _report.register(sub)
    _runbook.register(sub)
    _gameday.register(sub)
    _schedules.register(sub)
    _project.register(sub)
    return parser


def _sigterm(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same path as Ctrl-C, so every fault and container is reverted
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    # Ctrl-C (SIGINT) interrupts, and everything started is reverted, also in a process that
    # began with SIGINT ignored: a background job of a non-interactive shell (`drillbook run &`
    # in a CI script) inherits SIG_IGN, and Python then installs no handler of its own, so a
    # `kill -INT` went unheard (found when CI was started that way)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        print(f"drillbook: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DrillbookError as exc:
        print(f"drillbook: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(
            "drillbook: interrupted; everything this command started was removed", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    return code

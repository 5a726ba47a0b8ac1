"""``drillbook alerts``: the alerts firing now and the history of this lab run."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

from drillbook.cli._table import table
from drillbook.detection import Detection
from drillbook.environments.docker import DockerLab, LabSettings
from drillbook.errors import LabError

__all__ = ["register"]


def register(sub: Any) -> None:
    alerts = sub.add_parser(
        "alerts",
        help="alerts firing now, each rule's state and detection bound, and this lab run's history",
    )
    alerts.add_argument("--name", default="drillbook", help="lab name (default: drillbook)")
    alerts.add_argument("--json", action="store_true", help="print JSON instead of tables")
    alerts.add_argument(
        "--since", type=int, default=0, metavar="SEQ", help="history after this sequence number"
    )
    alerts.set_defaults(handler=_alerts)


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S.%f")[:-3]


def _alerts(args: argparse.Namespace) -> int:
    lab = DockerLab(LabSettings(name=args.name))
    if not lab.is_up():
        raise LabError(
            f"lab {args.name!r} is not up", hint="start it with `drillbook lab up --name NAME`"
        )
    detection = Detection.for_lab(lab)
    rules = detection.rules()
    timing = detection.timing()
    history = detection.history(args.since)
    firing = detection.firing()
    if args.json:
        print(
            json.dumps(
                {
                    "lab": args.name,
                    "timing": timing.__dict__,
                    "rules": [
                        {
                            "alert": r.rule.name,
                            "severity": r.rule.severity,
                            "state": r.state,
                            "health": r.health,
                            "for_s": r.rule.for_s,
                            "detection_bound_s": detection.bound(r.rule.name).fire_s,
                        }
                        for r in rules
                    ],
                    "firing": [e.to_json() for e in firing],
                    "history": [e.to_json() for e in history],
                },
                indent=2,
            )
        )
        return 0
    print(
        f"lab {args.name!r}: scrape {timing.scrape_interval_s:g}s, evaluation "
        f"{timing.evaluation_interval_s:g}s, group_wait {timing.group_wait_s:g}s"
    )
    print()
    print(
        table(
            ["alert", "severity", "state", "for", "detection bound"],
            [
                [
                    r.rule.name,
                    r.rule.severity,
                    r.state + (f" ({r.last_error})" if r.last_error else ""),
                    f"{r.rule.for_s:g}s",
                    detection.bound(r.rule.name).explain(),
                ]
                for r in rules
            ],
        )
    )
    print()
    now = time.time()
    if firing:
        print(
            table(
                ["firing now", "labels", "since"],
                [[e.name, _labels(e.labels), f"{now - e.received_at:.0f}s ago"] for e in firing],
            )
        )
    else:
        print("firing now: nothing")
    print()
    if history:
        print(
            table(
                ["seq", "received (UTC)", "alert", "state", "labels"],
                [
                    [e.seq, _clock(e.received_at), e.name, e.state, _labels(e.labels)]
                    for e in history
                ],
            )
        )
    else:
        print("history: no alert has fired in this lab run")
    return 0


def _labels(labels: Any) -> str:
    skip = {"alertname", "severity", "lab"}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in skip)

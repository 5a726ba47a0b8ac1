"""``drillbook lab up | status | down | clean``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from drillbook.cli._subject import Subject, add_project_option, subject_of
from drillbook.cli._table import table
from drillbook.engine import docker_client
from drillbook.environments import LabLock
from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers, parse_port_option
from drillbook.environments.monitoring import MonitoringSettings
from drillbook.environments.services import service

__all__ = ["register"]


def register(sub: Any) -> None:
    lab = sub.add_parser(
        "lab", help="bring the lab up (Docker, or --env kubernetes), inspect it, tear it down"
    )
    lsub = lab.add_subparsers(dest="lab_command", required=True, metavar="ACTION")

    up = lsub.add_parser("up", help="start the lab's services and wait until each is healthy")
    _name(up)
    up.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="NAME",
        help="start only this service (and its dependencies); repeatable",
    )
    up.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="SERVICE=PORT",
        help="publish SERVICE (or SERVICE.PORTNAME) on a fixed 127.0.0.1 port; repeatable",
    )
    up.add_argument(
        "--image-source",
        choices=("local", "upstream"),
        default=None,
        help="local: images built here (default); upstream: postgres:15, redis:7, ...",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="start-up timeout per service (default: each service's own)",
    )
    up.add_argument(
        "--scrape-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="Prometheus scrape interval (default 1; detection bounds grow with it)",
    )
    up.add_argument(
        "--evaluation-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="Prometheus rule evaluation interval (default 1)",
    )
    up.add_argument("--json", action="store_true", help="print the status as JSON when up")
    _k8s_options(up)
    up.set_defaults(handler=_up)

    status = lsub.add_parser("status", help="each service: state, health, host endpoint")
    _name(status)
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _k8s_options(status)
    status.set_defaults(handler=_status)

    down = lsub.add_parser("down", help="remove everything this lab created")
    _name(down)
    _k8s_options(down)
    down.set_defaults(handler=_down)

    check = lsub.add_parser(
        "check", help="bring a lab up, check every service, write a report, tear it down"
    )
    check.add_argument(
        "--name", default="drillbook-check", help="lab name (default: drillbook-check)"
    )
    check.add_argument(
        "--report",
        default="reports",
        metavar="DIR",
        help="write DIR/<run-id>/lab-check.json (default: reports)",
    )
    check.set_defaults(handler=_check)

    clean = lsub.add_parser(
        "clean",
        help="remove whatever any earlier (killed) run left behind (without --name: real-node "
        "Kubernetes clusters too)",
    )
    clean.add_argument(
        "--name", default=None, help="only leftovers of this lab (default: all labs)"
    )
    clean.set_defaults(handler=_clean)


def _k8s_options(parser: argparse.ArgumentParser) -> None:
    add_project_option(parser)
    parser.add_argument(
        "--env",
        choices=("docker", "kubernetes"),
        default=None,
        help="docker (default; a project of manifests only: kubernetes): the testcontainers "
        "lab; kubernetes: the manifests (fixtures/k8s, or the project's) applied to a lab "
        "context (see `drillbook k8s up`)",
    )
    parser.add_argument("--kubeconfig", default=None, help="with --env kubernetes (or KUBECONFIG)")
    parser.add_argument("--context", default=None, help="with --env kubernetes: a lab context")


def _kubernetes(args: argparse.Namespace, subject: Subject) -> Any:
    """The Kubernetes lab of the subject: ``--project DIR``'s manifests, or the reference
    stack's fixtures/k8s, in the named (or current) lab context."""
    return subject.kubernetes_lab(args.kubeconfig, args.context)


def _k8s_rows(lab: Any, as_json: bool) -> int:
    rows = lab.status()
    if as_json:
        print(json.dumps({"lab": lab.name, "services": [r.__dict__ for r in rows]}, indent=2))
    else:
        for r in rows:
            state = "healthy" if r.healthy else "waiting"
            print(f"{r.service:<10} {r.container:<22} {r.state:<10} {state}")
    return 0 if rows and all(r.healthy for r in rows) else 1


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default="drillbook", help="lab name (default: drillbook)")


def _up(args: argparse.Namespace) -> int:
    subject = subject_of(args)
    if (args.env or subject.default_env) == "kubernetes":
        k8s = _kubernetes(args, subject)
        k8s.start()
        print(f"lab {k8s.name!r} up (run {k8s.run_id})", file=sys.stderr)
        return _k8s_rows(k8s, args.json)
    catalog = subject.lab_settings(args.name).catalog
    for name in args.service:
        service(name, catalog)  # unknown names fail before anything starts
    settings = subject.lab_settings(
        args.name,
        services=tuple(args.service) or None,
        ports=parse_port_option(args.port, catalog),
        startup_timeout_s=args.timeout,
        monitoring=MonitoringSettings(
            scrape_interval_s=args.scrape_interval,
            evaluation_interval_s=args.evaluation_interval,
        ),
        **({"image_source": args.image_source} if args.image_source else {}),
    )
    lab = DockerLab(settings)
    lab.start(on_event=lambda msg: print(f"  {msg}", file=sys.stderr))
    print(f"lab {lab.name!r} up (run {lab.run_id})", file=sys.stderr)
    _print_status(lab, args.json)
    return 0


def _status(args: argparse.Namespace) -> int:
    subject = subject_of(args)
    if (args.env or subject.default_env) == "kubernetes":
        return _k8s_rows(_kubernetes(args, subject), args.json)
    lab = DockerLab(subject.lab_settings(args.name))
    if not lab.is_up():
        if args.json:
            print(json.dumps({"lab": args.name, "up": False, "services": []}))
        else:
            print(f"lab {args.name!r} is not up (start it with `drillbook lab up`)")
        return 1
    return _print_status(lab, args.json)


def _print_status(lab: DockerLab, as_json: bool) -> int:
    rows = lab.status()
    healthy = all(r.healthy for r in rows)
    trades = _trades(lab) if {"postgres", "backend"} <= {r.service for r in rows} else None
    if as_json:
        payload = {
            "lab": lab.name,
            "run_id": lab.run_id,
            "up": True,
            "healthy": healthy,
            "trade_executions": trades,
            "services": [asdict(r) for r in rows],
        }
        print(json.dumps(payload, indent=2))
    else:
        print(f"lab {lab.name!r}, run {lab.run_id}")
        print(
            table(
                ["service", "container", "state", "health", "endpoint", "detail"],
                [
                    (
                        r.service,
                        r.container,
                        r.state,
                        "healthy" if r.healthy else "UNHEALTHY",
                        r.endpoint or "-",
                        r.detail,
                    )
                    for r in rows
                ],
            )
        )
        if trades is not None:
            print(f"trading: {trades} trade executions recorded")
    return 0 if healthy else 1


def _trades(lab: DockerLab) -> int | None:
    """How many trades the bot has recorded (the stack's own table); None when unreadable."""
    import psycopg

    try:
        with psycopg.connect(lab.services()["postgres"].url, connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM trade_executions").fetchone()
    except (psycopg.Error, KeyError):
        return None
    return int(row[0]) if row else None


def _check(args: argparse.Namespace) -> int:
    started = time.monotonic()
    lab = DockerLab(LabSettings(name=args.name))
    try:
        lab.start(on_event=lambda msg: print(f"  {msg}", file=sys.stderr))
        up_s = time.monotonic() - started
        code = _print_status(lab, as_json=False)
        rows = lab.status()
    finally:
        down_started = time.monotonic()
        lab.stop()
        down_s = time.monotonic() - down_started
    report_dir = Path(args.report) / lab.run_id
    report_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "kind": "lab-check",
        "lab": lab.name,
        "run_id": lab.run_id,
        "healthy": code == 0,
        "up_seconds": round(up_s, 2),
        "down_seconds": round(down_s, 2),
        "services": [asdict(r) for r in rows],
    }
    (report_dir / "lab-check.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"lab up in {up_s:.1f}s, down in {down_s:.1f}s; report: {report_dir / 'lab-check.json'}")
    return code


def _down(args: argparse.Namespace) -> int:
    subject = subject_of(args)
    if (args.env or subject.default_env) == "kubernetes":
        k8s = _kubernetes(args, subject)
        removed_k8s = k8s.stop()
        print(f"lab {k8s.name!r} down: removed {', '.join(removed_k8s) or 'nothing'}")
        return 0
    lab = DockerLab(subject.lab_settings(args.name))
    removed = lab.stop()
    if not removed:
        print(f"lab {args.name!r} is not up; nothing to remove")
        return 0
    print(f"lab {args.name!r} down: removed {_summary(removed)}")
    return 0


def _clean(args: argparse.Namespace) -> int:
    if args.name:  # a lab a live run holds is not left behind: refuse to pull it from under it
        with LabLock(args.name).held():
            removed = clean_leftovers(docker_client(), args.name)
    else:
        removed = clean_leftovers(docker_client(), args.name)
        _clean_real_clusters()
    print(f"clean: removed {_summary(removed)}" if removed else "clean: nothing left behind")
    return 0


def _clean_real_clusters() -> None:
    """Real-node Kubernetes clusters a killed ``run --env kubernetes --nodes real`` left (found
    by their Docker label, as ``k8s down --all`` finds them)."""
    from drillbook.environments.kubernetes import (
        ControlPlaneBuild,
        RealCluster,
        default_cache,
        real_clusters_left,
    )

    build = ControlPlaneBuild(default_cache())
    for name in real_clusters_left(build.cache):
        removed = RealCluster(build, name=name).down(quiet=True)
        print(f"clean: real-node cluster {name!r}: removed {', '.join(removed)}")


def _summary(resources: list[Any]) -> str:
    kinds = ("container", "network", "volume")
    counts = {k: sum(1 for r in resources if r.kind == k) for k in kinds}
    return ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items())

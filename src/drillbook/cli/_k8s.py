"""``drillbook k8s build | up | down | status``: the local Kubernetes control plane."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    k8s = sub.add_parser(
        "k8s", help="a real Kubernetes control plane on loopback (kwok nodes), for tests"
    )
    verbs = k8s.add_subparsers(dest="verb", required=True, metavar="VERB")
    build = verbs.add_parser(
        "build", help="build kube-apiserver, controller-manager, scheduler, kwok; fetch etcd"
    )
    build.set_defaults(handler=_build)
    up = verbs.add_parser("up", help="start the cluster (building first when needed)")
    up.add_argument("--name", default="drillbook", help="cluster name (default: drillbook)")
    up.add_argument("--nodes", type=int, default=3, help="kwok nodes (default: 3)")
    up.set_defaults(handler=_up)
    down = verbs.add_parser("down", help="stop the cluster and remove its state")
    down.add_argument("--name", default="drillbook")
    down.add_argument(
        "--all",
        action="store_true",
        help="every local cluster (also those a killed test run or `run --env kubernetes` left)",
    )
    down.set_defaults(handler=_down)
    status = verbs.add_parser("status", help="the cluster's processes, ports and kubeconfig")
    status.add_argument("--name", default="drillbook")
    status.set_defaults(handler=_status)


def _plane(args: argparse.Namespace) -> Any:
    from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

    return ControlPlane(
        ControlPlaneBuild(default_cache()),
        name=getattr(args, "name", "drillbook"),
        nodes=getattr(args, "nodes", 3),
    )


def _build(args: argparse.Namespace) -> int:
    from drillbook.environments.kubernetes import ControlPlaneBuild, default_cache

    build = ControlPlaneBuild(default_cache())
    took = build.build()
    for binary, seconds in took.items():
        print(f"built {binary} in {seconds:.0f}s")
    print(f"binaries: {build.bin_dir}")
    return 0


def _up(args: argparse.Namespace) -> int:
    if not 1 <= args.nodes <= 50:
        from drillbook.errors import ConfigError

        raise ConfigError(f"--nodes {args.nodes}: expected 1 to 50")
    kubeconfig = _plane(args).up()
    print(f"export KUBECONFIG={kubeconfig}")
    return 0


def _down(args: argparse.Namespace) -> int:
    if not args.all:
        _plane(args).down()
        return 0
    from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

    build = ControlPlaneBuild(default_cache())
    root = build.cache / "clusters"
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for name in names:
        ControlPlane(build, name=name).down()
    print(f"k8s down --all: {len(names)} cluster(s) {names if names else ''}".rstrip())
    return 0


def _status(args: argparse.Namespace) -> int:
    plane = _plane(args)
    state = plane.state()
    if state is None:
        print(f"cluster {args.name!r}: not up")
        return 1
    print(json.dumps({**state.__dict__, "kubeconfig": str(plane.kubeconfig)}, indent=2))
    return 0

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
    build.add_argument(
        "--nodes",
        choices=("kwok", "real"),
        default="kwok",
        help="real: also kubelet, kube-proxy, pause, CoreDNS and the node image",
    )
    build.set_defaults(handler=_build)
    up = verbs.add_parser("up", help="start the cluster (building first when needed)")
    up.add_argument("--name", default="drillbook", help="cluster name (default: drillbook)")
    up.add_argument(
        "--nodes",
        default="3",
        metavar="N|real",
        help="N kwok (simulated) nodes (default: 3), or `real`: node containers whose kubelet "
        "and containerd run the stack's images as real processes (docs/real-nodes)",
    )
    up.add_argument(
        "--count", type=int, default=2, help="with --nodes real: how many nodes (default: 2)"
    )
    up.set_defaults(handler=_up)
    down = verbs.add_parser("down", help="stop the cluster and remove its state")
    down.add_argument("--name", default="drillbook")
    down.add_argument(
        "--all",
        action="store_true",
        help="every local cluster (also those a killed test run or `run --env kubernetes` left)",
    )
    down.set_defaults(handler=_down)
    images = verbs.add_parser(
        "images",
        help="tag the lab's images as the stack's manifests name them and print the names "
        "(for kind: kind load docker-image $(drillbook k8s images) --name drillbook)",
    )
    images.set_defaults(handler=_images)
    status = verbs.add_parser("status", help="the cluster's processes, ports and kubeconfig")
    status.add_argument("--name", default="drillbook")
    status.set_defaults(handler=_status)


def _plane(args: argparse.Namespace, nodes: int | str = 3) -> Any:
    """The cluster called ``args.name``: a real-node one when ``nodes`` is ``real`` or when
    one by that name is up (its state says so), else the loopback plane with kwok nodes."""
    from drillbook.environments.kubernetes import (
        ControlPlane,
        ControlPlaneBuild,
        RealCluster,
        default_cache,
    )

    build = ControlPlaneBuild(default_cache())
    name = getattr(args, "name", "drillbook")
    real = RealCluster(build, name=name, nodes=getattr(args, "count", 2))
    if nodes == "real" or real.state() is not None:
        return real
    return ControlPlane(build, name=name, nodes=int(nodes))


def _build(args: argparse.Namespace) -> int:
    from drillbook.environments.kubernetes import ControlPlaneBuild, default_cache

    build = ControlPlaneBuild(default_cache())
    took = build.build(nodes=args.nodes == "real")
    for binary, seconds in took.items():
        print(f"built {binary} in {seconds:.0f}s")
    print(f"binaries: {build.bin_dir}")
    return 0


def _up(args: argparse.Namespace) -> int:
    from drillbook.errors import ConfigError

    if args.nodes == "real":
        if not 1 <= args.count <= 5:
            raise ConfigError(f"--count {args.count}: expected 1 to 5 real nodes")
    elif not args.nodes.isdigit() or not 1 <= int(args.nodes) <= 50:
        raise ConfigError(f"--nodes {args.nodes}: expected 1 to 50 (kwok nodes), or real")
    kubeconfig = _plane(args, args.nodes).up()
    print(f"export KUBECONFIG={kubeconfig}")
    return 0


def _down(args: argparse.Namespace) -> int:
    if not args.all:
        _plane(args).down()
        return 0
    from drillbook.environments.kubernetes import (
        ControlPlane,
        ControlPlaneBuild,
        RealCluster,
        default_cache,
        real_clusters_left,
    )

    build = ControlPlaneBuild(default_cache())
    root = build.cache / "clusters"
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    real = set(real_clusters_left(build.cache))  # also those whose state directory is gone
    for name in names:
        if name not in real and RealCluster(build, name=name).state() is None:
            ControlPlane(build, name=name).down()
    for name in sorted(real | {n for n in names if RealCluster(build, name=n).state()}):
        RealCluster(build, name=name).down()
    names = sorted({*names, *real})
    print(f"k8s down --all: {len(names)} cluster(s) {names if names else ''}".rstrip())
    return 0


def _images(args: argparse.Namespace) -> int:
    import sys

    from drillbook.environments.docker._settings import project_root
    from drillbook.environments.kubernetes import RealCluster, default_cache
    from drillbook.environments.kubernetes._build import ControlPlaneBuild
    from drillbook.environments.kubernetes._images import cluster_images, tag_cluster_images

    recipes = RealCluster(ControlPlaneBuild(default_cache())).images
    say = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    print(" ".join(tag_cluster_images(cluster_images(recipes, project_root(), say))))
    return 0


def _status(args: argparse.Namespace) -> int:
    plane = _plane(args)
    state = plane.state()
    if state is None:
        print(f"cluster {args.name!r}: not up")
        return 1
    print(json.dumps({**vars(state), "kubeconfig": str(plane.kubeconfig)}, indent=2))
    return 0

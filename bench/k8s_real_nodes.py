"""Real-node Kubernetes benchmark (``drillbook k8s up --nodes real``): node containers whose
kubelet and containerd run the lab's images as real processes.

Per run: cluster up with binaries and images cached (node containers, containerd, images
imported, control plane, kubelets, kube-proxy, CoreDNS) to every node Ready; a workload applied
(tests/kubernetes/real_nodes/redis.yaml: two Redis pods with a readiness probe) to all pods
Ready; a real pod kill (PodKill, the process ends) to the ReplicaSet's replacement Ready;
``down`` to nothing left. Medians of ``--runs``.

Targets (issue 17): cluster up <= 60 s cached; stack Ready <= 90 s (here: the small workload,
the trading-bot stack does not run on real nodes yet, see docs/real-nodes/README.md).

    python bench/k8s_real_nodes.py [--runs 2] [--nodes 2] [--images redis,python]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from drillbook.environments.kubernetes import (
    ControlPlaneBuild,
    KubernetesLab,
    RealCluster,
    default_cache,
)
from drillbook.faults.kubernetes import PodKill
from drillbook.waiting import Check, Wait

TARGET_UP_S = 60.0
TARGET_READY_S = 90.0
MANIFEST = (
    Path(__file__).resolve().parents[1] / "tests" / "kubernetes" / "real_nodes" / "redis.yaml"
)
NAMESPACE = "real-nodes-test"


def _ready_pods(lab: KubernetesLab) -> list[Any]:
    from kubernetes import client

    core: Any = client.CoreV1Api(lab.api)
    return [
        p
        for p in core.list_namespaced_pod(NAMESPACE, label_selector="app=redis").items
        if p.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]


def one_run(
    build: ControlPlaneBuild, i: int, nodes: int, images: tuple[str, ...]
) -> dict[str, float]:
    cluster = RealCluster(build, name=f"bench-real-{i}", nodes=nodes, images=images)
    figures: dict[str, float] = {}
    t0 = time.monotonic()
    try:
        cluster.up(say=lambda _msg: None)
        figures["up_s"] = time.monotonic() - t0
        with KubernetesLab(cluster.kubeconfig, namespace=NAMESPACE, manifests=(MANIFEST,)) as lab:
            t1 = time.monotonic()
            lab.start(timeout_s=180)
            figures["ready_s"] = time.monotonic() - t1
            fault = PodKill("redis", qty=1)
            t2 = time.monotonic()
            fault.inject(lab)
            killed = set(fault._killed)

            def replaced() -> Check:
                fresh = [p for p in _ready_pods(lab) if p.metadata.name not in killed]
                return Check(len(fresh) == 2, f"{len(fresh)}/2 ready besides the killed pod")

            Wait(120, poll_s=0.25).until(replaced, "the ReplicaSet to replace the killed pod")
            figures["pod_kill_recovery_s"] = time.monotonic() - t2
            lab.stop()
    finally:
        t3 = time.monotonic()
        cluster.down(quiet=True)
        figures["down_s"] = time.monotonic() - t3
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument(
        "--images",
        default="postgres,redis,rabbitmq,python,monitoring",
        help="lab images imported into every node (default: all five, as `k8s up` does)",
    )
    parser.add_argument("--out", default="reports/bench", help="where to write the JSON")
    args = parser.parse_args()
    build = ControlPlaneBuild(default_cache())
    took = build.build(say=lambda msg: print(f"  {msg}"), nodes=True)
    for binary, seconds in took.items():
        print(f"first build: {binary} {seconds:.0f}s")
    images = tuple(n for n in args.images.split(",") if n)
    runs = [one_run(build, i, args.nodes, images) for i in range(args.runs)]
    medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(
        f"real-node cluster: {args.nodes} node(s), {len(images)} lab image(s), {args.runs} run(s)"
    )
    for key, label, target in (
        ("up_s", "cluster up (cached) to nodes Ready + CoreDNS", TARGET_UP_S),
        ("ready_s", "workload applied to all pods Ready", TARGET_READY_S),
        ("pod_kill_recovery_s", "pod kill to replacement Ready", None),
        ("down_s", "k8s down", None),
    ):
        values = [round(r[key], 1) for r in runs]
        verdict = ""
        if target is not None:
            verdict = (
                f", target <= {target:g}s: {'ok' if medians[key] <= target else 'OVER TARGET'}"
            )
        print(f"{label}: median {medians[key]:.1f}s {values}{verdict}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "k8s_real_nodes.json").write_text(
        json.dumps(
            {"runs": runs, "medians": medians, "nodes": args.nodes, "images": images}, indent=2
        )
        + "\n"
    )
    return 0 if medians["up_s"] <= TARGET_UP_S and medians["ready_s"] <= TARGET_READY_S else 1


if __name__ == "__main__":
    raise SystemExit(main())

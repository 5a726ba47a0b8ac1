"""Real-node Kubernetes benchmark (``drillbook k8s up --nodes real``): node containers whose
kubelet and containerd run the lab's images as real processes.

Per run: cluster up with binaries and images cached (node containers, containerd, images
imported, control plane, kubelets, kube-proxy, CoreDNS, drillbook's node agent) to every node
Ready; the trading stack (fixtures/k8s) applied to every pod Ready by its own readiness probe;
each Kubernetes drill of the catalogue run through the drill runner on it (MTTD: fault in
effect to first detection; alert: to the alert at the responder, timed by the cluster's own
Prometheus and Alertmanager, for the drills whose alert fires; MTTR: fault in effect to
recovered); ``down`` to nothing left.
Medians of ``--runs``, and the whole run's wall time (what the real-node tier costs).

Targets (issue 17): cluster up <= 60 s cached; stack Ready <= 90 s.

    python bench/k8s_real_nodes.py [--runs 1] [--nodes 2] [--drills a,b]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from drillbook.drills import DrillRunner, default_runbook
from drillbook.drills.kubernetes import kubernetes_drills
from drillbook.environments.kubernetes import (
    ControlPlaneBuild,
    KubernetesLab,
    KubernetesPlatform,
    RealCluster,
    default_cache,
)
from drillbook.sla import get_profile

TARGET_UP_S = 60.0
TARGET_READY_S = 90.0


def one_run(build: ControlPlaneBuild, i: int, nodes: int, only: set[str]) -> dict[str, float]:
    cluster = RealCluster(build, name=f"bench-real-{i}", nodes=nodes)
    figures: dict[str, float] = {}
    t0 = time.monotonic()
    try:
        cluster.up(say=lambda _msg: None)
        figures["up_s"] = time.monotonic() - t0
        with KubernetesLab(cluster.kubeconfig) as lab, TemporaryDirectory() as evidence:
            t1 = time.monotonic()
            lab.start(timeout_s=240)
            figures["ready_s"] = time.monotonic() - t1
            runner = DrillRunner(  # detection: the cluster's own Prometheus and Alertmanager
                lab,  # type: ignore[arg-type]
                get_profile("ci"),
                platform=KubernetesPlatform(lab, evidence_dir=Path(evidence)),
            )
            t2 = time.monotonic()
            for drill in kubernetes_drills(default_runbook()):
                if only and drill.name not in only:
                    continue
                result = runner.run(drill)
                result.raise_for_outcome()
                for key, short in (
                    ("time_to_detect", "mttd"),
                    ("time_to_alert", "alert"),
                    ("time_to_recover", "mttr"),
                ):
                    if key in result.measured:
                        figures[f"{drill.name}.{short}_s"] = result.measured[key]
            figures["drills_s"] = time.monotonic() - t2
            lab.stop()
    finally:
        t3 = time.monotonic()
        cluster.down(quiet=True)
        figures["down_s"] = time.monotonic() - t3
        figures["wall_s"] = time.monotonic() - t0
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--drills", default="", help="comma-separated drill names (default all)")
    parser.add_argument("--out", default="reports/bench", help="where to write the JSON")
    args = parser.parse_args()
    build = ControlPlaneBuild(default_cache())
    took = build.build(say=lambda msg: print(f"  {msg}"), nodes=True)
    for binary, seconds in took.items():
        print(f"first build: {binary} {seconds:.0f}s")
    only = {d for d in args.drills.split(",") if d}
    runs = [one_run(build, i, args.nodes, only) for i in range(args.runs)]
    keys = sorted(set().union(*runs), key=lambda k: (k.count("."), k))
    medians = {k: statistics.median(r[k] for r in runs if k in r) for k in keys}
    print(f"real-node cluster: {args.nodes} node(s), the trading stack, {args.runs} run(s)")
    targets = {"up_s": TARGET_UP_S, "ready_s": TARGET_READY_S}
    labels = {
        "up_s": "cluster up (cached) to nodes Ready + CoreDNS + node agents",
        "ready_s": "stack applied to every pod Ready",
        "drills_s": "the Kubernetes drills, one after another",
        "down_s": "k8s down",
        "wall_s": "the whole run (up, stack, drills, down)",
    }
    for key in keys:
        values = [round(r[key], 1) for r in runs if key in r]
        verdict = ""
        if key in targets:
            ok = medians[key] <= targets[key]
            verdict = f", target <= {targets[key]:g}s: {'ok' if ok else 'OVER TARGET'}"
        print(f"{labels.get(key, key)}: median {medians[key]:.1f}s {values}{verdict}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "k8s_real_nodes.json").write_text(
        json.dumps({"runs": runs, "medians": medians, "nodes": args.nodes}, indent=2) + "\n"
    )
    return 0 if all(medians[k] <= t for k, t in targets.items()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

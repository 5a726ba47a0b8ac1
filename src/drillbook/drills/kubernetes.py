"""Drills on the Kubernetes tier: the runbook's kubectl steps through the API of a lab context.

Detection comes from the API (a workload with fewer ready replicas than it wants, a claim
Pending); budgets from the runbook as on the Docker tier. The nodes of the local control plane
are simulated, so these drills exercise what Kubernetes itself does (scheduling, controllers,
rollouts, volume binding), not the processes in the containers.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from drillbook.drills._budgets import budgets_for
from drillbook.drills._model import Drill, Invariant, Step
from drillbook.environments.kubernetes import KubernetesPlatform, node_ready
from drillbook.errors import LabError
from drillbook.faults.exchange import (
    ExchangeRateLimited,
    ExchangeUnreachable,
    PriceShock,
    backend_health,
)
from drillbook.faults.kubernetes import (
    BadRollout,
    ClaimPending,
    MemoryLimit,
    NodeNotReady,
    PodKill,
    PolicyPartition,
)
from drillbook.probes.kubernetes import (
    BackendHealthy,
    ExposureBelow,
    OnReadyNodes,
    PolicyAllows,
    RolloutComplete,
    WorkloadReady,
)
from drillbook.runbook import Runbook
from drillbook.waiting import Check

__all__ = [
    "REAL_NODES_ONLY",
    "OnReadyNodes",
    "PolicyAllows",
    "RolloutComplete",
    "WorkloadReady",
    "kubernetes_drills",
]


def _network_policies(platform: KubernetesPlatform) -> None:
    """``kubectl get networkpolicy -n trading-bot``: each policy, whom it selects, its types."""
    from kubernetes import client

    lab = platform.lab
    net: Any = client.NetworkingV1Api(lab.api)
    lines = [
        f"{p.metadata.name}\tpodSelector={p.spec.pod_selector.match_labels or {}}\t"
        f"types={p.spec.policy_types}"
        for p in net.list_namespaced_network_policy(lab.namespace).items
    ]
    platform.save_evidence("networkpolicies.txt", "\n".join(lines) + "\n")


def _rollout_history(platform: KubernetesPlatform) -> None:
    """``kubectl rollout history deployment/backend``."""
    history = platform.rollout_history("backend")
    text = "\n".join(f"{rev}\t{rs}" for rev, rs in history)
    platform.save_evidence("rollout-history.txt", text + "\n")


def _nodes(platform: KubernetesPlatform) -> None:
    """``kubectl get nodes``; ``kubectl describe nodes | grep -A 5 Conditions`` (Ready, and
    the taints the node lifecycle controller put on)."""
    from kubernetes import client

    core: Any = client.CoreV1Api(platform.lab.api)
    lines = []
    for n in core.list_node().items:
        ready = next((c for c in n.status.conditions or [] if c.type == "Ready"), None)
        taints = [f"{t.key}:{t.effect}" for t in n.spec.taints or []]
        lines.append(
            f"{n.metadata.name}\tReady={ready.status if ready else '?'}"
            f"\t{ready.reason if ready else ''}\ttaints={taints}"
        )
    platform.save_evidence("nodes.txt", "\n".join(lines) + "\n")


def _spread_backend(platform: KubernetesPlatform) -> None:
    """Untimed setup of node-not-ready: a backend replica on a node without postgres (the
    drill's starting condition); when every replica sits beside postgres (an earlier drain
    moved them), ``kubectl rollout restart`` lets the scheduler spread them again."""
    backend, postgres = set(platform.node_of("backend")), set(platform.node_of("postgres"))
    if backend - postgres:
        return
    platform.restart("backend")
    platform.wait_rollout("backend")


def _drain_not_ready(platform: KubernetesPlatform) -> None:
    """``kubectl drain <node-name> --ignore-daemonsets --delete-emptydir-data`` for each node
    that is not Ready: its pods evicted, the controllers start them on healthy nodes. On real
    nodes a NotReady node's kubelet does not confirm the deletions, so its pods stay
    Terminating (kubectl drain would wait for them forever; the runbook does not say
    ``--force``): the drain does not wait for them, the replacements are what count."""
    from kubernetes import client

    core: Any = client.CoreV1Api(platform.lab.api)
    real = platform.real_nodes()
    drained = []
    for n in core.list_node().items:
        if node_ready(n) != "True":
            evicted = platform.drain(n.metadata.name, wait=not real)
            drained.append(f"{n.metadata.name}: evicted {', '.join(evicted) or 'nothing'}")
            if real:
                drained.append(
                    f"{n.metadata.name}: its kubelet does not answer; the evicted pods stay "
                    "Terminating there until it does (kubectl drain would wait; not --force)"
                )
    platform.save_evidence("drain.txt", "\n".join(drained or ["no node NotReady"]) + "\n")


def _backend_health(platform: KubernetesPlatform) -> None:
    """``kubectl exec -it deployment/backend -n trading-bot -- curl -f
    http://localhost:8080/health``: in a ready backend pod, for real (recorded as skipped on
    simulated nodes)."""
    result = platform.exec("backend", ["curl", "-sf", "-m", "5", "http://localhost:8080/health"])
    platform.save_evidence("backend-health.json", result.output)


#: the row the postgres-pod-killed drill writes before the kill and looks for after it
MARKER = "postgres-pod-killed"


def _write_marker(platform: KubernetesPlatform) -> None:
    """Untimed setup: a row PostgreSQL must still have after its pod is killed (real nodes
    only: on simulated ones nothing stores it, and the invariant is recorded as skipped)."""
    if not platform.real_nodes():
        return
    platform.sql(
        "CREATE TABLE IF NOT EXISTS drillbook_marker (drill text PRIMARY KEY, "
        "written timestamptz NOT NULL DEFAULT now())"
    )
    platform.sql(
        "INSERT INTO drillbook_marker (drill) VALUES (%s) ON CONFLICT DO NOTHING", (MARKER,)
    )


def _marker_kept(platform: KubernetesPlatform) -> Check:
    rows = platform.sql("SELECT drill FROM drillbook_marker WHERE drill = %s", (MARKER,))
    return Check(
        rows == [(MARKER,)],
        "the row written before the kill is there"
        if rows
        else "the row written before the kill is gone: the claim's data was lost",
    )


def _drop_marker(platform: KubernetesPlatform) -> None:
    if platform.real_nodes():
        _wait_postgres_ready(platform)  # a drill that failed early leaves it restarting
        platform.sql("DROP TABLE IF EXISTS drillbook_marker")


def _wait_postgres_ready(platform: KubernetesPlatform) -> None:
    """``kubectl wait --for=condition=ready pod -l app=postgres --timeout=300s``: on the pods
    themselves (the StatefulSet's status lags a kill by a moment)."""
    from drillbook.errors import LabError

    def ready() -> Check:
        try:
            return Check(True, f"ready: {platform.pod('postgres', ready=True)}")
        except LabError as exc:
            return Check(False, str(exc))

    platform.lab.wait("a ready pod of app=postgres", ready, 300)


def _pg_isready_from_backend(platform: KubernetesPlatform) -> None:
    """``kubectl exec -it deployment/backend -n trading-bot -- pg_isready -h postgres-service
    -p 5432``."""
    result = platform.exec(
        "backend", ["pg_isready", "-h", "postgres-service", "-p", "5432", "-t", "5"]
    )
    platform.save_evidence("pg_isready.txt", result.output)


def _database_size(platform: KubernetesPlatform) -> None:
    """``kubectl exec -it <postgres-pod> -n trading-bot -- psql -U postgres -d trading_bot -c
    "SELECT pg_database_size('trading_bot');"``."""
    sql = "SELECT pg_database_size('trading_bot');"
    result = platform.exec("postgres", ["psql", "-U", "postgres", "-d", "trading_bot", "-c", sql])
    platform.save_evidence("pg_database_size.txt", result.output)


def _escalate_if_both_exchanges_down(platform: KubernetesPlatform) -> None:
    """The escalation rule "If multiple exchanges are affected, escalate to management": taken
    only when the backend's own view (its /health, in its pod) shows both down."""
    down: list[str] = []

    def both_down() -> Check:
        health = backend_health(platform.lab)
        down[:] = [n for n in ("binance", "kucoin") if not health["dependencies"][n]["up"]]
        return Check(len(down) == 2, f"exchanges down: {down or 'none'}")

    try:  # the backend notices each exchange on its next call: a few seconds apart
        platform.lab.wait("the backend to see both exchanges down", both_down, 30)
    except LabError as exc:
        raise LabError(f"escalation rule not met (need both exchanges down): {exc}") from exc
    platform.save_evidence(
        "escalation-management.txt",
        f"ExchangeConnectionLost on {', '.join(down)}: escalated to management "
        "(runbook: If multiple exchanges are affected, escalate to management)\n",
    )


class _BackendTemplate:
    """The backend Deployment's pod template and replicas, saved before a drill that changes
    them (untimed setup) and put back whole after it (teardown): what ``kubectl set env`` and
    ``kubectl scale`` changed, the lab gets back as it was (the residue check compares)."""

    def __init__(self) -> None:
        self._saved: dict[str, Any] = {}

    def save(self, platform: KubernetesPlatform) -> None:
        from kubernetes import client

        apps: Any = client.AppsV1Api(platform.lab.api)
        d = apps.read_namespaced_deployment("backend", platform.lab.namespace)
        self._saved["template"] = platform.lab.api.sanitize_for_serialization(d.spec.template)
        self._saved["replicas"] = d.spec.replicas

    def restore(self, platform: KubernetesPlatform) -> None:
        from kubernetes import client

        if not self._saved:
            return
        apps: Any = client.AppsV1Api(platform.lab.api)
        apps.patch_namespaced_deployment(
            "backend",
            platform.lab.namespace,
            [
                {"op": "replace", "path": "/spec/template", "value": self._saved["template"]},
                {"op": "replace", "path": "/spec/replicas", "value": self._saved["replicas"]},
            ],
        )
        platform.wait_rollout("backend")
        self._saved.clear()


#: drills whose fault or probes need processes (the fake exchange's admin API, the backend's
#: own /health): on simulated (kwok) nodes ``drillbook run`` leaves them out, saying so
REAL_NODES_ONLY = frozenset(
    {"exchange-rate-limited", "exchanges-lost", "backend-crash-loop", "high-risk-exposure"}
)


def _wait_for_exposure(platform: KubernetesPlatform) -> None:
    """Untimed setup: positions held and open, so a price move has something to move."""

    def built() -> Check:
        try:
            risk = platform.get_json("backend", 3000, "/api/risk")
        except LabError as exc:  # a pod of the set-env rollout still opening its API port
            return Check(False, str(exc))
        ratio, limit = float(risk["exposure_ratio"]), float(risk["exposure_limit_ratio"])
        return Check(ratio >= 0.2 * limit, f"exposure {ratio:.3f} of limit {limit:g}")

    platform.lab.wait("the bot to hold positions", built, 90)


def _emergency_close(platform: KubernetesPlatform) -> None:
    """``curl -X POST http://backend-service:3000/api/risk/emergency-close``: from inside a
    backend pod; the positions are the replicas' shared ones (PostgreSQL)."""
    body = platform.post_json(
        "backend", 3000, "/api/risk/emergency-close", {"reason": "high_risk_exposure"}
    )
    if body.get("failed"):
        raise LabError(f"emergency close left positions open: {body}")
    platform.save_evidence("emergency-close.json", json.dumps(body, indent=2) + "\n")


class _Halt:
    """When every backend replica runs with ALLOW_NEW_POSITIONS=false (the database's clock,
    read once step 3's rollout is complete), and the invariant that no position was opened
    after it. Not "no position open": the runbook closes positions (step 2) before it halts
    new ones (step 3), and in between the replicas, in emergency risk mode, may rightly open
    small ones within their quarter headroom."""

    def __init__(self) -> None:
        self.since: str | None = None

    def halt(self, platform: KubernetesPlatform) -> None:
        platform.set_env(
            "backend", {"ALLOW_NEW_POSITIONS": "false", "SIGNAL_GENERATION_ENABLED": "false"}
        )
        platform.wait_rollout("backend")  # no replica without the flag is left
        self.since = str(platform.sql("SELECT now()")[0][0])

    def holds(self, platform: KubernetesPlatform) -> Check:
        if self.since is None:
            return Check(False, "ALLOW_NEW_POSITIONS=false was never rolled out")
        rows = platform.sql(
            "SELECT count(*) FROM positions WHERE opened_at > %s::timestamptz", (self.since,)
        )
        return Check(
            rows == [("0",)],
            f"positions opened after every replica halted ({self.since}): {rows[0][0]}",
        )


def _high_risk_exposure(runbook: Runbook) -> Drill:
    """HighRiskExposure through the fake exchange's prices, on real nodes: the runbook's four
    steps on three replicas (each ``set env`` a rollout of all of them)."""
    from drillbook.drills.catalog import INTEGRITY

    shock: Any = PriceShock(percent=400)
    kept, halt = _BackendTemplate(), _Halt()
    return Drill(
        "high-risk-exposure",
        "HighRiskExposure",
        shock,
        (ExposureBelow(0.8), WorkloadReady("backend")),  # type: ignore[arg-type]
        (
            Step(
                "kubectl set env deployment/backend EMERGENCY_RISK_MODE=true "
                "MAX_POSITION_SIZE_PERCENT=1",
                lambda p: p.set_env(
                    "backend", {"EMERGENCY_RISK_MODE": "true", "MAX_POSITION_SIZE_PERCENT": "1"}
                ),
                "HighRiskExposure resolution 1 (Immediate Risk Reduction)",
            ),
            Step(
                "curl -X POST http://backend-service:3000/api/risk/emergency-close",
                _emergency_close,  # type: ignore[arg-type]
                "HighRiskExposure resolution 2 (Close High-Risk Positions)",
            ),
            Step(
                "kubectl set env deployment/backend ALLOW_NEW_POSITIONS=false "
                "SIGNAL_GENERATION_ENABLED=false",
                halt.halt,  # type: ignore[arg-type]
                "HighRiskExposure resolution 3 (Halt New Trading)",
            ),
            Step(
                "kubectl set env deployment/backend MAX_POSITION_SIZE_PERCENT=2",
                lambda p: p.set_env("backend", {"MAX_POSITION_SIZE_PERCENT": "2"}),
                "HighRiskExposure resolution 4 (Gradually re-enable with lower limits)",
            ),
        ),
        budgets_for(runbook, "HighRiskExposure"),
        (INTEGRITY, Invariant("no position opened after ALLOW_NEW_POSITIONS=false", halt.holds)),  # type: ignore[arg-type]
        "a +400% pump on every held symbol pushes exposure over 80% of the limit; emergency "
        "risk mode, close everything, halt new positions, re-enable gradually: each set env a "
        "rollout of the three replicas (one of them trades: the lease). Real nodes only",
        setup=(
            Step("save the backend's template and replicas (untimed)", kept.save),  # type: ignore[arg-type]
            Step(
                "hold positions: kubectl set env deployment/backend HOLD_TICKS=10000 (untimed)",
                lambda p: p.set_env("backend", {"HOLD_TICKS": "10000"}),
            ),
            Step("wait until the bot holds positions (untimed)", _wait_for_exposure),  # type: ignore[arg-type]
        ),
        teardown=(
            Step(
                "back to normal trading: the backend's saved template (untimed)",
                kept.restore,  # type: ignore[arg-type]
            ),
        ),
    )


def _exchange_drills(runbook: Runbook) -> list[Drill]:
    """ExchangeConnectionLost through the fake exchange's pod, on real nodes: 429s, an outage."""
    from drillbook.drills.catalog import INTEGRITY

    # INTEGRITY (data_integrity_check() empty) as on Docker: the three replicas trade through
    # one lease-holding writer (fixtures/stack CONTRACT.md; before it, a bench run saw two
    # open positions for one symbol after exchanges-lost)

    ecl = budgets_for(runbook, "ExchangeConnectionLost")
    rate_limit = ExchangeRateLimited("both", 12.0)
    limited: Any = rate_limit

    def _no_ban(platform: KubernetesPlatform) -> Check:
        bans = rate_limit.bans_since_injection(platform.lab)  # type: ignore[arg-type]
        return Check(bans == 0, f"{bans} IP ban(s) issued by the exchange during the drill")

    no_ban = Invariant("the exchange issued no 418 ban during the drill", _no_ban)  # type: ignore[arg-type]
    lost: Any = ExchangeUnreachable("both")
    kept, kept_lost = _BackendTemplate(), _BackendTemplate()
    return [
        Drill(
            "exchange-rate-limited",
            "ExchangeConnectionLost",
            limited,
            (BackendHealthy(),),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl set env deployment/backend API_RATE_LIMIT_DELAY=1000",
                    lambda p: p.set_env("backend", {"API_RATE_LIMIT_DELAY": "1000"}),
                    "ExchangeConnectionLost resolution 2 (If Rate Limiting)",
                ),
                Step(
                    "kubectl scale deployment backend --replicas=1",
                    lambda p: p.scale("backend", 1),
                    "ExchangeConnectionLost resolution 2 (Scale down to reduce load)",
                ),
            ),
            ecl,
            (INTEGRITY, no_ban),
            "both fake exchanges (a pod) answer 429; slow down and scale down as the runbook "
            "says, never get banned; real nodes only",
            setup=(Step("save the backend's template and replicas (untimed)", kept.save),),  # type: ignore[arg-type]
            teardown=(
                Step(
                    "restore API_RATE_LIMIT_DELAY and the backend's replicas (saved template)",
                    kept.restore,  # type: ignore[arg-type]
                ),
            ),
        ),
        Drill(
            "exchanges-lost",
            "ExchangeConnectionLost",
            lost,
            (BackendHealthy(),),  # type: ignore[arg-type]
            (
                # escalated first: the backend's view before its restart into simulation
                Step(
                    "escalate to management: multiple exchanges affected",
                    _escalate_if_both_exchanges_down,  # type: ignore[arg-type]
                    "ExchangeConnectionLost escalation 2",
                ),
                Step(
                    "kubectl set env deployment/backend SIMULATE_TRADING=true",
                    lambda p: p.set_env("backend", {"SIMULATE_TRADING": "true"}),
                    "ExchangeConnectionLost resolution 4 (If Exchange Maintenance)",
                ),
            ),
            ecl,
            (INTEGRITY,),
            "both fake exchanges drop every connection (outage); trade in simulation until "
            "they are back, escalate to management; real nodes only",
            setup=(
                Step("save the backend's template (untimed)", kept_lost.save),  # type: ignore[arg-type]
            ),
            teardown=(
                Step(
                    "resume normal operation (SIMULATE_TRADING unset: the saved template)",
                    kept_lost.restore,  # type: ignore[arg-type]
                ),
            ),
            alert_clears_on_recovery=False,
        ),
    ]


def _describe_backend_pods(platform: KubernetesPlatform) -> None:
    """``kubectl describe pod <backend-pod> -n trading-bot``: each pod's state, last state
    (``OOMKilled``, exit 137), restarts and memory limit (the resource constraint). Looked at
    again, for up to 20 s, until a pod shows why it stopped, as the one who runs it would."""
    from kubernetes import client

    lab = platform.lab
    core: Any = client.CoreV1Api(lab.api)
    lines: list[str] = []

    def described() -> Check:
        lines.clear()
        for pod in core.list_namespaced_pod(lab.namespace, label_selector="app=backend").items:
            statuses = pod.status.container_statuses or []
            for c, spec in zip(statuses, pod.spec.containers, strict=False):
                last = c.last_state.terminated if c.last_state else None
                now = c.state.terminated if c.state else None
                state = c.state.waiting.reason if c.state and c.state.waiting else ""
                state = state or (f"terminated {now.reason} (exit {now.exit_code})" if now else "")
                limits = (spec.resources.limits or {}) if spec.resources else {}
                lines.append(
                    f"{pod.metadata.name}\tready={c.ready}\trestarts={c.restart_count}\t"
                    f"state={state or 'running'}\tlast={last.reason if last else ''}"
                    f"{f' (exit {last.exit_code})' if last else ''}\tlimits={dict(limits)}"
                )
        why = [line for line in lines if "OOMKilled" in line or "Error" in line]
        return Check(bool(why), f"{len(why)} pod(s) show why they stopped")

    with contextlib.suppress(LabError):  # what it shows after 20 s is the evidence all the same
        platform.lab.wait("a backend pod's last state", described, 20, poll_s=1.0)
    platform.save_evidence("describe-backend-pods.txt", "\n".join(lines) + "\n")


def _raise_memory_limit(platform: KubernetesPlatform) -> None:
    """``kubectl patch deployment backend -n trading-bot -p '{...limits: {memory: 4Gi, cpu:
    2}}'``, and the rollout it starts, to the end."""
    platform.patch_resources("backend", "4Gi", cpus=2)
    platform.wait_rollout("backend")


def _apply_policies(platform: KubernetesPlatform) -> None:
    applied = platform.apply_manifest("network-policies.yaml")
    platform.save_evidence("apply-network-policies.txt", "\n".join(applied) + "\n")


def _rollout_undo(platform: KubernetesPlatform) -> None:
    platform.rollout_undo("backend")


def _rollout_status(platform: KubernetesPlatform) -> None:
    platform.wait_rollout("backend")


def _describe_quota(platform: KubernetesPlatform) -> None:
    """``kubectl describe resourcequota -n trading-bot`` and the StatefulSet's pod events
    (what says why the pod waits): not a runbook step, the investigation its gap needs."""
    from kubernetes import client

    lab = platform.lab
    core: Any = client.CoreV1Api(lab.api)
    lines = [
        f"resourcequota {q.metadata.name}\thard={dict(q.spec.hard or {})}"
        f"\tused={dict((q.status.used if q.status else None) or {})}"
        for q in core.list_namespaced_resource_quota(lab.namespace).items
    ]
    events = core.list_namespaced_event(
        lab.namespace, field_selector="involvedObject.kind=Pod"
    ).items
    lines += [
        f"event {e.involved_object.name}\t{e.reason}\t{e.message}"
        for e in events
        if (e.involved_object.name or "").startswith("postgres")
    ]
    platform.save_evidence("quota-describe.txt", "\n".join(lines) + "\n")


def _describe_claim(platform: KubernetesPlatform) -> None:
    """``kubectl get pvc``, ``describe pvc postgres-pvc`` (its events), ``get storageclass``."""
    from kubernetes import client

    lab = platform.lab
    core: Any = client.CoreV1Api(lab.api)
    storage: Any = client.StorageV1Api(lab.api)
    lines = [
        f"pvc {p.metadata.name}\t{p.status.phase}\tclass={p.spec.storage_class_name}"
        for p in core.list_namespaced_persistent_volume_claim(lab.namespace).items
    ]
    events = core.list_namespaced_event(
        lab.namespace, field_selector="involvedObject.kind=PersistentVolumeClaim"
    ).items
    lines += [f"event {e.involved_object.name}\t{e.reason}\t{e.message}" for e in events]
    lines += [
        f"storageclass {c.metadata.name}\t{c.provisioner}"
        for c in storage.list_storage_class().items
    ]
    platform.save_evidence("pvc-describe.txt", "\n".join(lines) + "\n")


def kubernetes_drills(runbook: Runbook) -> list[Drill]:
    """The Kubernetes tier's drills with budgets from ``runbook``."""
    tbd = budgets_for(runbook, "TradingBotDown")
    dbd = budgets_for(runbook, "DatabaseDown")
    claim = ClaimPending()
    fault_of: Any = PodKill("backend", qty=3)  # the Fault protocol is typed for the Docker lab
    claim_fault: Any = claim
    quota = ClaimPending(cause="quota")
    quota_fault: Any = quota
    partition: Any = PolicyPartition()
    rollout: Any = BadRollout()
    node: Any = NodeNotReady()
    reachable: Any = (
        *(PolicyAllows("backend", dst, port) for dst, port in PolicyPartition().reaches),
        WorkloadReady("backend"),
    )
    postgres_killed: Any = PodKill("postgres", qty=1)
    oom: Any = MemoryLimit()
    return [
        *_exchange_drills(runbook),
        _high_risk_exposure(runbook),
        Drill(
            "backend-crash-loop",
            "TradingBotDown",
            oom,
            (WorkloadReady("backend"), RolloutComplete("backend")),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl describe pod <backend-pod> -n trading-bot",
                    _describe_backend_pods,  # type: ignore[arg-type]
                    "TradingBotDown resolution 1 (If Pod is CrashLooping: check for resource "
                    "constraints)",
                ),
                Step(
                    'kubectl patch deployment backend -n trading-bot -p \'{..."limits":'
                    '{"memory":"4Gi","cpu":"2"}...}\'',
                    _raise_memory_limit,  # type: ignore[arg-type]
                    "TradingBotDown resolution 1 (If Pod is CrashLooping: increase resources)",
                ),
            ),
            tbd,
            (),
            "a release with a 48Mi memory limit and a 96 MB ballast: the kernel OOM-kills each "
            "new pod (OOMKilled, exit 137) into CrashLoopBackOff; the runbook's describe and "
            "4Gi patch roll it out healthy. TradingBotDown does not fire (two old replicas "
            "serve): the probes detect it. Real nodes only",
            alert_fires=False,
        ),
        Drill(
            "postgres-pod-killed",
            "DatabaseDown",
            postgres_killed,
            (WorkloadReady("postgres"),),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl wait --for=condition=ready pod -l app=postgres -n trading-bot "
                    "--timeout=300s",
                    _wait_postgres_ready,  # type: ignore[arg-type]
                    "Database Recovery, Minor Issues Recovery 2 (Wait for pod to be ready)",
                ),
                Step(
                    "kubectl exec -it deployment/backend -n trading-bot -- pg_isready -h "
                    "postgres-service -p 5432",
                    _pg_isready_from_backend,  # type: ignore[arg-type]
                    "Database Recovery, Minor Issues Recovery 3 (Verify connectivity)",
                ),
                Step(
                    "kubectl exec -it <postgres-pod> -n trading-bot -- psql -U postgres -d "
                    "trading_bot -c \"SELECT pg_database_size('trading_bot');\"",
                    _database_size,  # type: ignore[arg-type]
                    "Database Recovery, Minor Issues Recovery 4 (Check database integrity)",
                ),
            ),
            dbd,
            (Invariant("the row written before the kill survives on postgres-pvc", _marker_kept),),  # type: ignore[arg-type]
            "the postgres pod killed (grace 0); the StatefulSet starts it again on the same "
            "claim. On real nodes a row written before must still be there (the data is on "
            "the claim, not in the container) and the runbook's pg_isready and psql run in "
            "the pods; on simulated nodes those are recorded as skipped. DatabaseDown does not "
            "fire: its for: 3s outlasts the StatefulSet's restart (a blip is not paged)",
            alert_fires=False,
            setup=(Step("write a marker row (untimed)", _write_marker),),  # type: ignore[arg-type]
            teardown=(Step("drop the marker table (untimed)", _drop_marker),),  # type: ignore[arg-type]
        ),
        Drill(
            "backend-pods-killed",
            "TradingBotDown",
            fault_of,
            (WorkloadReady("backend"),),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl rollout restart deployment/backend",
                    lambda p: p.restart("backend"),
                    "TradingBotDown resolution 3 (If Application Error)",
                ),
            ),
            tbd,
            (),
            "every backend pod killed at once (chaostoolkit-kubernetes terminate_pods); the "
            "ReplicaSet replaces them, the runbook's rollout restart follows. TradingBotDown is "
            "not awaited: the new pods serve within about its for: 3s (on real nodes it fired "
            "at 6.0 s in one run and not at all in the next)",
            alert_fires=False,
        ),
        Drill(
            "postgres-claim-pending",
            "DatabaseDown",
            claim_fault,
            (WorkloadReady("postgres"),),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl get pvc; kubectl describe pvc postgres-pvc; kubectl get storageclass",
                    _describe_claim,  # type: ignore[arg-type]
                    "DatabaseDown resolution 2 (If Storage Issues: Check PVC status)",
                ),
                Step(
                    "recreate postgres-pvc on an existing class (standard); the pod follows",
                    lambda p: claim.revert(p.lab),  # type: ignore[arg-type]
                    "DatabaseDown resolution 2 (If PVC is pending, check storage class)",
                ),
            ),
            dbd,
            (),
            "postgres-pvc recreated on a StorageClass that does not exist: Pending, and so is "
            "postgres; the claim put back on the cluster's class",
        ),
        Drill(
            "postgres-claim-over-quota",
            "DatabaseDown",
            quota_fault,
            (WorkloadReady("postgres"),),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl get pvc; kubectl describe pvc postgres-pvc; kubectl get storageclass",
                    _describe_claim,  # type: ignore[arg-type]
                    "DatabaseDown resolution 2 (If Storage Issues: Check PVC status)",
                ),
                Step(
                    "kubectl describe resourcequota -n trading-bot (not in the runbook)",
                    _describe_quota,  # type: ignore[arg-type]
                    "a gap: the runbook's storage steps stop at the storage class",
                ),
                Step(
                    "raise the quota; recreate postgres-pvc (not in the runbook)",
                    lambda p: quota.revert(p.lab),  # type: ignore[arg-type]
                    "a gap: the runbook's storage steps stop at the storage class",
                ),
            ),
            dbd,
            (),
            "a storage ResourceQuota below postgres-pvc's request: the claim is refused, "
            "postgres waits Pending. The runbook's steps (check PVC, check storage class) find "
            "no claim and no class problem: the quota steps are drillbook's, a runbook gap",
        ),
        Drill(
            "backend-policy-partitioned",
            "ExchangeConnectionLost",
            partition,
            reachable,
            (
                Step(
                    "kubectl get networkpolicy -n trading-bot",
                    _network_policies,  # type: ignore[arg-type]
                    "ExchangeConnectionLost investigation 4 (Check network policies)",
                ),
                Step(
                    "kubectl apply -f k8s/network-policies.yaml",
                    _apply_policies,  # type: ignore[arg-type]
                    "ExchangeConnectionLost resolution 3 (If Network Issues)",
                ),
                Step(
                    "kubectl delete pod -l app=backend -n trading-bot",
                    lambda p: p.delete_pod("backend"),
                    "ExchangeConnectionLost resolution 3 (Restart networking components)",
                ),
            ),
            budgets_for(runbook, "ExchangeConnectionLost"),
            (),
            "chaostoolkit-kubernetes' deny_all_egress on the backend with backend-egress "
            "deleted (a deny alone is additive and cuts nothing); the runbook re-applies "
            "k8s/network-policies.yaml. Judged by the policies in the API, and on real nodes "
            "by real TCP connects from a backend pod (kwok nodes move no packets). "
            "ExchangeConnectionLost does not fire: established connections outlive a new "
            "policy, so the backend keeps trading on its pooled ones",
            # measured on real nodes: the backend's pooled keep-alive connections to the
            # exchange are established flows, which a policy (iptables, conntrack) lets
            # through as every such CNI does: ExchangeConnectionLost stays quiet, only new
            # connections are cut (what PolicyAllows tries)
            alert_fires=False,
        ),
        Drill(
            "backend-bad-rollout",
            "TradingBotDown",
            rollout,
            (WorkloadReady("backend"), RolloutComplete("backend")),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl rollout history deployment/backend -n trading-bot",
                    _rollout_history,  # type: ignore[arg-type]
                    "Rolling Update Recovery 1 (Check rollout history)",
                ),
                Step(
                    "kubectl rollout undo deployment/backend -n trading-bot",
                    _rollout_undo,  # type: ignore[arg-type]
                    "Rolling Update Recovery 2 (Rollback to previous version)",
                ),
                Step(
                    "kubectl rollout status deployment/backend -n trading-bot",
                    _rollout_status,  # type: ignore[arg-type]
                    "Rolling Update Recovery 3 (Monitor rollback)",
                ),
            ),
            tbd,
            (),
            "a release whose container exits at start: new pods in CrashLoopBackOff, one old "
            "replica taken by maxUnavailable; rolled back with rollout undo. Not done: step 4's "
            "exec curl (needs a real node). TradingBotDown does not fire (two old replicas "
            "serve): the drill's probes detect it",
            alert_fires=False,
        ),
        Drill(
            "node-not-ready",
            "TradingBotDown",
            node,
            (OnReadyNodes("backend"), WorkloadReady("backend")),  # type: ignore[arg-type]
            (
                Step(
                    "kubectl get nodes; kubectl describe nodes | grep -A 5 Conditions",
                    _nodes,  # type: ignore[arg-type]
                    "Network Partition Recovery, Detection 1-2 (Identify partitioned nodes)",
                ),
                Step(
                    "kubectl drain <node-name> --ignore-daemonsets --delete-emptydir-data",
                    _drain_not_ready,  # type: ignore[arg-type]
                    "Network Partition Recovery, Recovery 1-2 (Drain, reschedule)",
                ),
                Step(
                    "kubectl exec deployment/backend -n trading-bot -- curl -f "
                    "http://localhost:8080/health",
                    _backend_health,  # type: ignore[arg-type]
                    "Network Partition Recovery, Recovery 3 (Verify service restoration)",
                ),
            ),
            tbd,
            (),
            "a node running a backend replica reports NotReady (KWOK's node-not-ready stage; on "
            "real nodes its kubelet frozen); drained, its pods start on healthy nodes; the "
            "backend's health checked from inside (skipped on simulated nodes). "
            "TradingBotDown does not fire (the other replicas serve): the probes detect it",
            alert_fires=False,
            setup=(
                Step(
                    "a backend replica on a node without postgres (untimed)",
                    _spread_backend,  # type: ignore[arg-type]
                ),
            ),
        ),
    ]

"""The runbook's Planned Maintenance Window as a drill: pre-maintenance, during, post.

Pre-maintenance: the users notified (``MAINTENANCE_NOTICE``), a verified backup, the rollback
plan saved (the backend's configuration, secrets redacted). During: maintenance mode on backend
and frontend, the frontend at one replica, the update rolled out (the lab has one backend
build: a rollout of the same image stands in for the new version), migrations applied, a smoke
test. Post: maintenance mode off, the frontend back at two replicas, health monitored, trading
verified (a new trade, market data, risk), the maintenance logged. "Test procedures in staging"
is what this drill is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from drillbook.drills._model import Drill, Invariant, Step
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import LabError, WaitTimeout
from drillbook.faults.planned import Scheduled
from drillbook.probes import ServiceHealthy
from drillbook.sla import Budget
from drillbook.waiting import Check, Wait

__all__ = ["TradingAgain", "planned_maintenance"]

PROCEDURE = "Maintenance Procedures / Planned Maintenance Window"
NOTICE = "Scheduled maintenance in 24 hours"


def _health(lab: DockerLab) -> tuple[int, dict[str, Any]]:
    status, body = DockerPlatform(lab).http_call("backend", "health", "/health", timeout_s=2)
    return status, dict(body)


@dataclass(frozen=True)
class TradingAgain:
    """Out of maintenance and trading: ``/health`` says ``ok`` with no maintenance flag, and a
    trade was executed after maintenance mode was switched off (``since["t"]``)."""

    since: dict[str, float] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return "trading again after maintenance"

    def check(self, lab: DockerLab) -> Check:
        import psycopg

        try:
            status, health = _health(lab)
            with psycopg.connect(lab.services()["postgres"].url, connect_timeout=3) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM trade_executions WHERE executed_at > to_timestamp(%s)",
                    (self.since.get("t", time.time()),),
                ).fetchone()
        except Exception as exc:
            return Check(False, f"{type(exc).__name__}: {exc}")
        trades = int(row[0]) if row else 0
        problems = []
        if status != 200 or health.get("status") not in ("ok", "degraded"):
            problems.append(f"/health {status} {health.get('status')}")
        if health.get("flags", {}).get("MAINTENANCE_MODE"):
            problems.append("MAINTENANCE_MODE still on")
        if not trades:
            problems.append("no trade since maintenance ended")
        return Check(not problems, "; ".join(problems) or f"{trades} trade(s) since")


def planned_maintenance(  # noqa: PLR0915
    budgets: tuple[Budget, ...], invariants: tuple[Invariant[Any], ...]
) -> Drill:
    """The drill; ``budgets`` from the catalogue (the runbook gives the window no length)."""
    trading = TradingAgain()
    log: list[str] = []

    def note(line: str) -> None:
        log.append(f"{time.strftime('%H:%M:%S')} {line}")

    def backup(platform: DockerPlatform) -> None:
        path = platform.create_backup("pre-maintenance-backup")
        note(f"backup {path}")

    def rollback_plan(platform: DockerPlatform) -> None:
        container = platform.lab.container("backend")
        env = "\n".join(f"  {e}" for e in sorted(container.attrs["Config"]["Env"] or []))
        revision = platform.lab.revision("backend")
        platform.save_evidence(
            "backend-rollback.yaml",
            f"# rollback: drillbook's `rollout_undo` to revision {revision}\n"
            f"image: {container.attrs['Config']['Image']}\nrevision: {revision}\nenv:\n{env}\n",
        )
        note(f"rollback plan: revision {revision}")

    def maintenance_on(platform: DockerPlatform) -> None:
        platform.set_env("backend", {"MAINTENANCE_MODE": "true"})
        platform.set_env("frontend", {"MAINTENANCE_MODE": "true"})
        note("maintenance mode on")

    def update(platform: DockerPlatform) -> None:
        before = platform.lab.revision("backend")
        platform.restart("backend")  # rollout status: restart waits until healthy
        note(f"backend rolled out: revision {before} -> {platform.lab.revision('backend')}")

    def migrate(platform: DockerPlatform) -> None:
        result = platform.exec("backend", ["python3", "-m", "backend", "migrate"])
        note(f"migrations: {result.output.strip().splitlines()[-1:]}")

    def smoke(platform: DockerPlatform) -> None:
        """Health in maintenance, every dependency connected, the schema migrated. A process
        just rolled out connects to the exchanges on its first ticks: it gets 30 s."""

        def passing() -> Check:
            status, health = _health(platform.lab)
            down = [n for n, d in health.get("dependencies", {}).items() if not d.get("up")]
            applied = platform.sql("SELECT count(*) FROM schema_migrations")[0][0]
            ok = status == 200 and health.get("status") == "maintenance" and not down and applied
            return Check(
                bool(ok),
                f"/health {status} {health.get('status')}, dependencies down {down}, "
                f"migrations applied {applied}",
            )

        try:
            Wait(timeout_s=30, poll_s=0.5).until(passing, "the smoke test to pass")
        except WaitTimeout as exc:
            raise LabError(f"smoke test failed: {passing().detail}") from exc
        note("smoke test passed")

    def maintenance_off(platform: DockerPlatform) -> None:
        platform.set_env("backend", {"MAINTENANCE_MODE": "false"})
        platform.set_env("frontend", {"MAINTENANCE_MODE": "false"})
        trading.since["t"] = time.time()
        note("maintenance mode off")

    def monitor(platform: DockerPlatform) -> None:
        rows = [f"{s.service}\t{s.state}\thealthy={s.healthy}" for s in platform.lab.status()]
        platform.save_evidence("post-maintenance-status.txt", "\n".join(rows) + "\n")
        unhealthy = [r for r in rows if "healthy=False" in r]
        if unhealthy:
            raise LabError(f"after maintenance: {unhealthy}")

    def verify_trading(platform: DockerPlatform) -> None:
        """Order placement and execution, market data, risk management."""
        Wait(timeout_s=60, poll_s=0.5).until(
            lambda: trading.check(platform.lab), "a trade after maintenance"
        )
        status, risk = platform.http_call("backend", "api", "/api/risk")
        if status != 200:
            raise LabError(f"risk management: GET /api/risk -> {status}")
        _, health = _health(platform.lab)
        feeds = [n for n in ("binance", "kucoin") if health["dependencies"][n]["up"]]
        if not feeds:
            raise LabError("no market data feed up after maintenance")
        note(f"trading verified: feeds {feeds}, exposure {risk.get('exposure_ratio')}")

    def document(platform: DockerPlatform) -> None:
        platform.save_evidence(
            "maintenance-log.md", "# Maintenance log (drill)\n\n" + "\n".join(log) + "\n"
        )

    def back_to_normal(platform: DockerPlatform) -> None:
        if platform.lab.replicas("frontend") != 1:
            platform.scale("frontend", 1)
        platform.set_env("frontend", {"MAINTENANCE_MODE": None})
        platform.set_env("backend", {"MAINTENANCE_MODE": None, "MAINTENANCE_NOTICE": None})

    pre, during, post = "Pre-Maintenance", "During Maintenance", "Post-Maintenance"
    ref = f"{PROCEDURE} / "
    steps: tuple[Step[Any], ...] = (
        Step(
            f'kubectl set env deployment/backend MAINTENANCE_NOTICE="{NOTICE}"',
            lambda p: p.set_env("backend", {"MAINTENANCE_NOTICE": NOTICE}),
            ref + f"{pre} 1 (Notify users)",
            pre,
        ),
        Step(
            "kubectl create job --from=cronjob/postgres-backup pre-maintenance-backup-<ts>",
            backup,
            ref + f"{pre} 2 (Create backup)",
            pre,
        ),
        Step(
            "kubectl get deployment backend -o yaml > backend-rollback.yaml",
            rollback_plan,
            ref + f"{pre} 3 (Prepare rollback plan)",
            pre,
        ),
        Step(
            "kubectl set env deployment/backend,frontend MAINTENANCE_MODE=true",
            maintenance_on,
            ref + f"{during} 1 (Enable maintenance mode)",
            during,
        ),
        Step(
            "kubectl scale deployment frontend --replicas=1",
            lambda p: p.scale("frontend", 1),
            ref + f"{during} 2 (Scale down non-essential services)",
            during,
        ),
        Step(
            "kubectl set image deployment/backend ...; kubectl rollout status",
            update,
            ref + f"{during} 3 (Perform updates)",
            during,
        ),
        Step(
            "python3 -m backend migrate (the runbook's npm run migrate: CONTRACT.md)",
            migrate,
            ref + f"{during} 4 (Run database migrations)",
            during,
        ),
        Step("smoke test: health, dependencies, schema", smoke, ref + f"{during} 5", during),
        Step(
            "kubectl set env deployment/backend,frontend MAINTENANCE_MODE=false",
            maintenance_off,
            ref + f"{post} 1 (Disable maintenance mode)",
            post,
        ),
        Step(
            "kubectl scale deployment frontend --replicas=2",
            lambda p: p.scale("frontend", 2),
            ref + f"{post} 2 (Scale services back up)",
            post,
        ),
        Step("kubectl get pods", monitor, ref + f"{post} 3 (Monitor system health)", post),
        Step(
            "test order placement, market data, risk management",
            verify_trading,
            ref + f"{post} 4 (Verify trading functionality)",
            post,
        ),
        Step("maintenance log", document, ref + f"{post} 5 (Document maintenance)", post),
    )
    return Drill(
        "planned-maintenance",
        "Planned Maintenance",
        Scheduled("the maintenance window opens"),
        (ServiceHealthy("backend"), ServiceHealthy("frontend")),
        steps,
        budgets,
        invariants,
        "notice, backup, rollback plan, maintenance mode, update, migrations, smoke test, "
        "back to normal with trading verified",
        teardown=(Step("maintenance flags and notice unset, one frontend", back_to_normal),),
        recovered_when=(trading, ServiceHealthy("backend"), ServiceHealthy("frontend")),
        planned=True,
    )

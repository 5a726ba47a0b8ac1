"""The runbook's Data Loss Recovery as a drill: stop writes, assess, restore the last good
backup, replay what came after it from the exchange's fills, verify, resume.

"Replay transactions (if possible): use transaction logs or external records" is done with the
one external record a trading system has: the exchange's own fills. Every fill the restored
ledger lacks is written back with its order, its execution and its position change, in the
order the exchange executed them, so nothing traded after the backup is lost.
"""

from __future__ import annotations

from typing import Any

from drillbook.drills._model import Each, Invariant, PortableDrill, Step
from drillbook.environments.base import Platform
from drillbook.errors import LabError
from drillbook.faults.database import LedgerWiped, database, replay_exchange_fills
from drillbook.probes import ServiceHealthy
from drillbook.probes.kubernetes import WorkloadReady
from drillbook.sla import Budget
from drillbook.waiting import Check, Wait

__all__ = [
    "DataIntact",
    "data_loss",
    "newest_verified_backup",
    "restore_if_lost",
]

PROCEDURE = "Emergency Procedures / Data Loss Recovery"


class DataIntact:
    """``data_integrity_check()`` returns no row."""

    name = "data_integrity_check() is empty"

    def check(self, lab: Any) -> Check:
        try:
            with database(lab) as query:
                rows = query("SELECT check_name FROM data_integrity_check()")
        except Exception as exc:
            return Check(False, f"{type(exc).__name__}: {exc}")
        return Check(not rows, f"{len(rows)} violation(s): {sorted({r[0] for r in rows})}")


def newest_verified_backup(platform: Platform) -> str:
    """The newest backup the backup job verified (``restore.sh --list``, newest first)."""
    listing = platform.list_backups()
    good = [line.split()[0] for line in listing.splitlines() if line.endswith("verified")]
    if not good:
        raise LabError(f"no verified backup to restore: {listing.strip()}")
    return good[0]


def restore_if_lost(platform: Platform) -> str:
    """DatabaseDown's "restore from backup if data was lost": when the ledger's tables are
    gone, restore the newest verified backup and replay the exchange's fills after it."""
    present = platform.sql("SELECT to_regclass('public.trade_executions') IS NOT NULL")[0][0]
    if present:
        count = platform.sql("SELECT count(*) FROM trade_executions")[0][0]
        platform.save_evidence("data-check.txt", f"data survived: {count} trade execution(s)\n")
        return "data survived"
    backup = newest_verified_backup(platform)
    out = platform.restore_backup(backup)
    if "data_integrity_check(): empty" not in out:
        raise LabError(f"the restored backup is not sound: {out.strip()[-300:]}")
    replayed = replay_exchange_fills(platform.lab)
    platform.save_evidence("data-check.txt", f"restored {backup}; replayed {replayed} fill(s)\n")
    return f"restored {backup}, replayed {replayed}"


def data_loss(budgets: tuple[Budget, ...], invariants: tuple[Invariant[Any], ...]) -> PortableDrill:
    """The drill, for both backends; ``budgets`` and ``invariants`` come from the catalogue
    (DatabaseDown's)."""
    saved: dict[str, Any] = {}

    def trades(platform: Platform) -> int:
        return int(platform.sql("SELECT count(*) FROM trade_executions")[0][0])

    def backup_with_trades_after(platform: Platform) -> None:
        Wait(timeout_s=60, poll_s=0.5).until(
            lambda: Check(trades(platform) >= 2, f"{trades(platform)} trade(s)"),
            "the bot to trade",
        )
        saved["backup"] = platform.create_backup("pre-drill")
        saved["at_backup"] = trades(platform)
        Wait(timeout_s=60, poll_s=0.5).until(
            lambda: Check(
                trades(platform) >= saved["at_backup"] + 2,
                f"{trades(platform) - saved['at_backup']} trade(s) since the backup",
            ),
            "trades after the backup (the data a restore alone would lose)",
        )

    def assess(platform: Platform) -> None:
        rows = platform.sql(
            "SELECT COUNT(*) FROM trade_executions WHERE executed_at > now() - interval '1 hour'"
        )
        orders = platform.sql("SELECT COUNT(*) FROM orders WHERE status = 'filled'")
        platform.save_evidence(
            "data-loss-scope.txt",
            f"executions in the last hour: {rows[0][0]}; filled orders: {orders[0][0]}\n",
        )

    def last_good_backup(platform: Platform) -> None:
        saved["restore"] = newest_verified_backup(platform)

    def restore(platform: Platform) -> None:
        out = platform.restore_backup(saved["restore"])
        if "data_integrity_check(): empty" not in out:
            raise LabError(f"the restored backup is not sound: {out.strip()[-300:]}")

    def replay(platform: Platform) -> None:
        saved["replayed"] = replay_exchange_fills(platform.lab)

    def verify(platform: Platform) -> None:
        check = DataIntact().check(platform.lab)
        if not check.ok:
            raise LabError(f"after the replay: {check.detail}")

    def resume(platform: Platform) -> None:
        platform.restore("backend")  # the replicas it had (1 on Docker, 3 on Kubernetes)

    def ensure_running(platform: Platform) -> None:
        platform.restore("backend")  # nothing when resume did it
        # the drill's own backup file stays in the backup volume, like any emergency backup

    ref = f"{PROCEDURE} / "
    steps: tuple[Step[Any], ...] = (
        Step(
            "kubectl scale deployment backend --replicas=0",
            lambda p: p.scale("backend", 0),
            ref + "Immediate Response 1 (Stop all write operations)",
        ),
        Step(
            "SELECT COUNT(*) FROM trade_executions WHERE executed_at > '<last-known-good-time>'",
            assess,
            ref + "Immediate Response 2 (Assess data loss scope)",
        ),
        Step(
            "restore.sh --list",
            last_good_backup,
            ref + "Immediate Response 3 (Identify last good backup)",
        ),
        Step(
            "restore.sh --file /backups/backup-<timestamp>.sql.gz",
            restore,
            ref + "Recovery Process 1 (Restore from backup)",
        ),
        Step(
            "replay the trades after the backup from the exchange's fills",
            replay,
            ref + "Recovery Process 2 (Replay transactions)",
        ),
        Step(
            "SELECT * FROM data_integrity_check()",
            verify,
            ref + "Recovery Process 3 (Verify data integrity)",
        ),
        Step("kubectl scale deployment backend --replicas=<before>", resume, ""),
    )
    return PortableDrill(
        "ledger-data-loss",
        "Data Loss",
        LedgerWiped(),
        Each((DataIntact(), ServiceHealthy("backend")), (DataIntact(), WorkloadReady("backend"))),
        steps,
        budgets,
        invariants,
        "every trade execution deleted; stop writes, restore the last good backup, replay the "
        "trades made after it from the exchange's fills, verify, resume: nothing lost",
        setup=(
            Step("save the backend's replicas (untimed)", lambda p: p.remember("backend")),
            Step("a verified backup, then trades after it", backup_with_trades_after),
        ),
        teardown=(Step("the backend running again", ensure_running),),
        notes=Each(
            "",
            "The backup is the runbook's emergency backup (create job --from=cronjob/"
            "postgres-backup), listed and restored by restore.sh in backup-pod; the replay and "
            "the checks run psql in the postgres pod. Real nodes only",
        ),
    )

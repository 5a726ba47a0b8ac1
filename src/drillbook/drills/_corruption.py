"""DatabaseDown's "If Corruption Suspected" as a drill, with Database Recovery's major path.

A heap page of ``trade_executions`` is corrupted on disk. The runbook stops the applications
and runs ``pg_resetwal``; that resets the write-ahead log of a stopped server and repairs no
table (a finding in CONTRACT.md), so the drill takes the major-issues path instead: backend
stopped, the damage located, an emergency backup attempted (pg_dump cannot read a corrupt
table: the attempt is recorded), the newest verified backup restored, the trades after it
replayed from the exchange's fills, data_integrity_check() empty, backend started.
"""

from __future__ import annotations

from typing import Any

from drillbook.drills._data_loss import DataIntact, newest_verified_backup
from drillbook.drills._model import Drill, Invariant, Step
from drillbook.environments.docker import DockerPlatform
from drillbook.errors import DrillbookError, LabError
from drillbook.faults.database import TableCorrupted, replay_exchange_fills
from drillbook.probes import ServiceHealthy
from drillbook.sla import Budget
from drillbook.waiting import Check, Wait

__all__ = ["corruption"]

TABLES = ("orders", "positions", "trade_executions", "users", "audit_logs")


def corruption(budgets: tuple[Budget, ...], invariants: tuple[Invariant[Any], ...]) -> Drill:
    """The drill; ``budgets`` (DatabaseDown's) and ``invariants`` from the catalogue."""
    saved: dict[str, Any] = {}
    fault = TableCorrupted("trade_executions")

    def backup_with_trades_after(platform: DockerPlatform) -> None:
        def trades() -> int:
            return int(platform.sql("SELECT count(*) FROM trade_executions")[0][0])

        Wait(timeout_s=60, poll_s=0.5).until(
            lambda: Check(trades() >= 2, f"{trades()} trade(s)"), "the bot to trade"
        )
        platform.create_backup("pre-drill")
        at_backup = trades()
        Wait(timeout_s=60, poll_s=0.5).until(
            lambda: Check(trades() > at_backup, f"{trades() - at_backup} since the backup"),
            "a trade after the backup (what a restore alone would lose)",
        )

    def locate(platform: DockerPlatform) -> None:
        found = []
        for table in TABLES:
            try:
                n = platform.sql(f"SELECT count(*) FROM {table}")[0][0]
                found.append(f"{table}\treadable\t{n} row(s)")
            except Exception as exc:
                found.append(f"{table}\tDAMAGED\t{str(exc).strip()}")
        platform.save_evidence("damaged-relations.tsv", "\n".join(found) + "\n")
        damaged = [line.split("\t")[0] for line in found if "\tDAMAGED\t" in line]
        if not damaged:
            raise LabError("no table is damaged: corruption not confirmed")
        saved["damaged"] = damaged

    def emergency_backup(platform: DockerPlatform) -> None:
        try:
            saved["emergency"] = platform.create_backup("emergency-backup")
            note = f"emergency backup written: {saved['emergency']}\n"
        except (LabError, DrillbookError) as exc:
            note = f"emergency backup impossible with {saved.get('damaged')} damaged: {exc}\n"
        platform.save_evidence("emergency-backup.txt", note)

    def restore(platform: DockerPlatform) -> None:
        backup = newest_verified_backup(platform)
        out = platform.restore_backup(backup)
        if "data_integrity_check(): empty" not in out:
            raise LabError(f"the restored backup is not sound: {out.strip()[-300:]}")

    def replay(platform: DockerPlatform) -> None:
        saved["replayed"] = replay_exchange_fills(platform.lab)

    def verify(platform: DockerPlatform) -> None:
        check = DataIntact().check(platform.lab)
        if not check.ok:
            raise LabError(f"after the restore: {check.detail}")

    def ensure_running(platform: DockerPlatform) -> None:
        if platform.lab.replicas("backend") == 0:
            platform.scale("backend", 1)

    major = "Database Recovery / Major Issues Recovery "
    steps: tuple[Step[Any], ...] = (
        Step(
            "kubectl scale deployment backend --replicas=0",
            lambda p: p.scale("backend", 0),
            "DatabaseDown resolution 3 (If Corruption Suspected: Stop all applications)",
        ),
        Step(
            "SELECT count(*) FROM <each table>: locate the damage (not pg_resetwal: CONTRACT.md)",
            locate,
            "DatabaseDown resolution 3 (Run database recovery)",
        ),
        Step(
            "kubectl create job --from=cronjob/postgres-backup emergency-backup-<ts>",
            emergency_backup,
            major + "2 (Create emergency backup)",
        ),
        Step(
            "restore.sh --file /backups/<newest verified>.sql.gz",
            restore,
            major + "3 (Restore from backup)",
        ),
        Step(
            "replay the trades after the backup from the exchange's fills",
            replay,
            "Data Loss Recovery / Recovery Process 2 (Replay transactions)",
        ),
        Step("SELECT * FROM data_integrity_check()", verify, major + "4 (Verify restoration)"),
        Step(
            "kubectl scale deployment backend --replicas=1",
            lambda p: p.scale("backend", 1),
            major + "5 (Restart applications)",
        ),
    )
    return Drill(
        "postgres-corruption",
        "Database Corruption",
        fault,
        (DataIntact(), ServiceHealthy("backend")),
        steps,
        budgets,
        invariants,
        "a heap page of trade_executions corrupted on disk; stop the bot, locate the damage, "
        "restore the newest verified backup, replay the exchange's fills, verify, restart",
        setup=(Step("a verified backup, then trades after it", backup_with_trades_after),),
        teardown=(Step("the backend running again", ensure_running),),
    )

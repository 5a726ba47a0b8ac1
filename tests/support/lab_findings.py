"""What the lab checks (SQL, binaries, HTTP GETs) find on the reference runbook
(fixtures/operational-runbooks.md): the same on a Docker lab (tests/checks/test_sql_lab.py) and
in the pods of a real-node cluster (tests/kubernetes/test_real_nodes.py). ``(line, code,
subject)`` of each finding."""

from __future__ import annotations

__all__ = ["LAB_FINDINGS"]

LAB_FINDINGS = {
    (154, "commands.binary-missing", "postgres:pg_resetwal"),  # not on PATH in Debian's image
    (412, "commands.binary-missing", "backend:node"),
    (438, "commands.binary-missing", "backend:node"),
    (
        465,
        "sql.undefined-column",
        "SELECT query, mean_time, calls FROM pg_stat_statements ORDER BY mean_time DESC LIMIT 10; "
        ':: column "mean_time" does not exist',
    ),
    (480, "sql.duplicate-index", "idx_trades_timestamp"),
    # the lab's fake exchange answers the runbook's unsigned key check with -2015
    (566, "contract.http-refused", "api.binance.com/api/v3/account"),
    (678, "commands.binary-missing", "backend:npm"),
    (681, "commands.binary-missing", "backend:npm"),
}

"""The SQL check's pluggable statement runner, without a lab: reads on the database, writes on
a scratch copy that is always dropped, PostgreSQL's refusals as findings; psql's own error
output read back into the findings psycopg gives; the HTTP GETs sent from inside a pod (the
pod's exec played by a process here, to a loopback server)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from drillbook.checks import RunbookDoc
from drillbook.checks._pods import pod_get
from drillbook.checks._postgres import Psql, StatementFailed
from drillbook.checks.calls import probe_calls
from drillbook.checks.sql import SqlCheck
from drillbook.environments.base import ExecResult
from drillbook.errors import LabError

ROOT = Path(__file__).resolve().parents[2]
DOC = RunbookDoc.load(ROOT / "fixtures" / "operational-runbooks.md")
MEAN_TIME = 'column "mean_time" does not exist'
DUPLICATE = ("idx_trade_executions_executed_at", "CREATE INDEX idx_trade_executions_executed_at")
COLUMNS = [("pg_stat_statements", c) for c in ("mean_exec_time", "mean_plan_time", "calls")]


class FakeRunner:
    """A PostgreSQL that keeps only which databases exist and what it was asked."""

    via = "a fake"

    def __init__(self, *, busy: int = 0, template_in_use: bool = False, fail_on: str = "") -> None:
        self.busy, self.template_in_use, self.fail_on = busy, template_in_use, fail_on
        self.databases = {"postgres", "trading_bot"}
        self.calls: list[tuple[str, str, str]] = []  # (mode or "rows", database, sql)

    def execute(self, sql: str, database: str, mode: str) -> None:
        self.calls.append((mode, database, sql))
        assert database in self.databases, f"{sql} on {database}, which does not exist"
        if self.fail_on and self.fail_on in sql:
            raise LabError("the pod went away")
        if created := re.match(r'CREATE DATABASE "(\w+)"( TEMPLATE)?', sql):
            if created.group(2) and self.template_in_use:
                raise StatementFailed("sql.object-in-use", "in use", sqlstate="55006")
            self.databases.add(created.group(1))
        elif dropped := re.match(r'DROP DATABASE IF EXISTS "(\w+)"', sql):
            self.databases.discard(dropped.group(1))
        elif "mean_time" in sql:
            raise StatementFailed("sql.undefined-column", MEAN_TIME, sqlstate="42703")

    def rows(self, sql: str, params: Sequence[str] = (), *, database: str) -> list[tuple[Any, ...]]:
        self.calls.append(("rows", database, sql))
        if sql == "SHOW server_version":
            return [("15.20 (fake)",)]
        if "pg_stat_activity" in sql:
            return [(self.busy,)]
        if "pg_attribute" in sql:
            return list(COLUMNS)
        if "pg_index" in sql and params == ("idx_trades_timestamp",):
            return [DUPLICATE]
        return []


class FakeExec:
    def __init__(self, dump_code: int = 0) -> None:
        self.dump_code = dump_code
        self.argvs: list[list[str]] = []

    def __call__(self, argv: list[str]) -> tuple[int, str]:
        self.argvs.append(argv)
        if argv[0] == "sh":  # pg_dump | psql
            return self.dump_code, "" if self.dump_code == 0 else "pg_dump: error: cut off"
        return 0, "List of relations"  # \dt through psql


def _keys(findings: Sequence[Any]) -> set[tuple[int, str, str]]:
    return {(f.line, f.code, f.subject) for f in findings}


EXPECTED = {
    (
        465,
        "sql.undefined-column",
        "SELECT query, mean_time, calls FROM pg_stat_statements ORDER BY mean_time DESC LIMIT 10; "
        f":: {MEAN_TIME}",
    ),
    (480, "sql.duplicate-index", "idx_trades_timestamp"),
}


def test_reads_run_on_the_database_and_writes_on_a_scratch_copy_dropped_after() -> None:
    runner = FakeRunner()
    findings, notes = SqlCheck(runner, FakeExec()).run(DOC)
    assert _keys(findings) == EXPECTED
    (error,) = [f for f in findings if f.code == "sql.undefined-column"]
    assert error.message == f"PostgreSQL 15.20 (fake): ERROR: {MEAN_TIME} (SQLSTATE 42703)"
    assert error.hint == "pg_stat_statements has: mean_plan_time, mean_exec_time"
    (scratch,) = {db for mode, db, _ in runner.calls if db.startswith("drillbook_check_")}
    assert ("autocommit", "postgres", f'CREATE DATABASE "{scratch}" TEMPLATE "trading_bot"') in (
        runner.calls
    )
    statements = [(mode, db, sql) for mode, db, sql in runner.calls if db != "postgres"]
    assert {db for mode, db, _ in statements if mode == "read"} == {"trading_bot"}
    assert {db for mode, db, _ in statements if mode in ("write", "autocommit")} == {scratch}
    assert ("write", scratch, "UPDATE users SET password_reset_required = true;") in statements
    assert (
        "autocommit",
        scratch,
        "CREATE INDEX CONCURRENTLY idx_trades_timestamp ON trade_executions(executed_at);",
    ) in statements
    assert runner.calls[-1] == (
        "autocommit",
        "postgres",
        f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)',
    )
    assert runner.databases == {"postgres", "trading_bot"}
    assert f"writes ran on a scratch copy {scratch} (a template copy), dropped afterwards" in notes
    assert (
        "SQL executed on PostgreSQL 15.20 (fake) (the lab's database trading_bot) through a fake"
        in notes
    )


@pytest.mark.parametrize(
    ("runner", "why"),
    [
        (FakeRunner(busy=1), "connected: no template copy tried"),
        (FakeRunner(template_in_use=True), "connected meanwhile: the template copy refused"),
    ],
)
def test_a_database_in_use_is_copied_with_pg_dump(runner: FakeRunner, why: str) -> None:
    run = FakeExec()
    findings, notes = SqlCheck(runner, run).run(DOC)
    assert _keys(findings) == EXPECTED, why
    (scratch,) = {db for _, db, _ in runner.calls if db.startswith("drillbook_check_")}
    assert ("autocommit", "postgres", f'CREATE DATABASE "{scratch}"') in runner.calls
    dump = f"pg_dump -U postgres trading_bot | psql -q -U postgres {scratch}"
    assert ["sh", "-c", dump] in run.argvs
    assert any("pg_dump | psql: the backend is connected" in n for n in notes)
    assert runner.databases == {"postgres", "trading_bot"}


def test_the_scratch_copy_is_dropped_when_the_run_breaks_off() -> None:
    runner = FakeRunner(fail_on="ANALYZE")
    with pytest.raises(LabError, match="the pod went away"):
        SqlCheck(runner, FakeExec()).run(DOC)
    assert runner.databases == {"postgres", "trading_bot"}
    assert runner.calls[-1][2].startswith('DROP DATABASE IF EXISTS "drillbook_check_')

    runner = FakeRunner(busy=1)  # a dump cut off half-way: the half copy goes too
    with pytest.raises(LabError, match="pg_dump: error: cut off"):
        SqlCheck(runner, FakeExec(dump_code=1)).run(DOC)
    assert runner.databases == {"postgres", "trading_bot"}


# psql's words as PostgreSQL 15's psql prints them with VERBOSITY verbose (from a real pod)
NO_COLUMN = (
    'ERROR:  42703: column "mean_time" does not exist\n'
    "LINE 1: SELECT query, mean_time, calls FROM pg_stat_statements ORDER...\n"
    "                      ^\n"
    "LOCATION:  errorMissingColumn, parse_relation.c:3665\n"
)


@pytest.mark.parametrize(
    ("code", "output", "finding", "sqlstate", "primary", "hint"),
    [
        (1, NO_COLUMN, "sql.undefined-column", "42703", MEAN_TIME, ""),
        (
            1,
            'ERROR:  42703: column "entry_prise" does not exist\nLINE 1: SELECT entry_prise '
            "FROM positions\n               ^\nHINT:  Perhaps you meant to reference the column "
            '"positions.entry_price".\nLOCATION:  errorMissingColumn, parse_relation.c:3665\n',
            "sql.undefined-column",
            "42703",
            'column "entry_prise" does not exist',
            'Perhaps you meant to reference the column "positions.entry_price".',
        ),
        (
            1,
            'ERROR:  42P01: relation "usrs" does not exist\nLINE 1: SELECT 1 FROM usrs\n',
            "sql.undefined-table",
            "42P01",
            'relation "usrs" does not exist',
            "",
        ),
        (
            1,
            "ERROR:  25006: cannot execute DELETE in a read-only transaction\n",
            "sql.read-only-sql-transaction",
            "25006",
            "cannot execute DELETE in a read-only transaction",
            "",
        ),
        (  # no SQLSTATE before the session exists: psycopg's OperationalError
            2,
            'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" '
            'failed: FATAL:  database "nosuchdb" does not exist\n',
            "sql.operational",
            "",
            'database "nosuchdb" does not exist',
            "",
        ),
        (
            127,
            "sh: 1: psql: not found\n",
            "sql.psql-failed",
            "",
            "psql exited 127: sh: 1: psql: not found",
            "",
        ),
    ],
)
def test_psqls_errors_come_back_as_psycopgs_do(
    code: int, output: str, finding: str, sqlstate: str, primary: str, hint: str
) -> None:
    psql = Psql(lambda _argv: (code, output))
    with pytest.raises(StatementFailed) as failed:
        psql.execute("SELECT 1", "trading_bot", "read")
    assert (failed.value.code, failed.value.sqlstate, failed.value.primary) == (
        finding,
        sqlstate,
        primary,
    )
    assert (failed.value.hint or "") == hint


class PodPsql:
    """The exec of a pod whose psql answers the runbook as PostgreSQL 15 does."""

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []

    def __call__(self, argv: list[str]) -> tuple[int, str]:
        self.argvs.append(argv)
        sql = argv[-1] if argv[0] == "psql" else ""
        if sql == "SHOW server_version":
            return 0, "15.20 (Debian 15.20-0+deb12u1)\n"
        if "pg_stat_activity" in sql:
            return 0, "0\n"
        if "pg_attribute" in sql:
            return 0, "".join(f"{rel}\x1f{col}\n" for rel, col in COLUMNS)
        if "pg_index" in sql and "'idx_trades_timestamp'" in sql:
            return 0, "\x1f".join(DUPLICATE) + "\n"
        if any("mean_time" in a for a in argv):
            return 1, NO_COLUMN
        return 0, ""


def test_the_check_through_psql_gives_the_findings_psycopg_gives() -> None:
    pod = PodPsql()
    findings, notes = SqlCheck(Psql(pod, via="psql in pod postgres-0"), pod).run(DOC)
    assert _keys(findings) == EXPECTED
    (error,) = [f for f in findings if f.code == "sql.undefined-column"]
    assert error.message == (
        f"PostgreSQL 15.20 (Debian 15.20-0+deb12u1): ERROR: {MEAN_TIME} (SQLSTATE 42703)"
    )
    assert error.hint == "pg_stat_statements has: mean_plan_time, mean_exec_time"
    assert "through psql in pod postgres-0" in notes[0]
    # a read: one session, BEGIN READ ONLY ... ROLLBACK, its rows thrown away; the database's
    # own name bound as a quoted literal
    read = next(a for a in pod.argvs if "SELECT COUNT(*) FROM users;" in a)
    assert read[read.index("-d") + 1] == "trading_bot"
    assert read[-6:] == ["-c", "BEGIN READ ONLY", "-c", read[-3], "-c", "ROLLBACK"]
    assert read[read.index("-o") : read.index("-o") + 2] == ["-o", "/dev/null"]
    assert {"ON_ERROR_STOP=1", "VERBOSITY=verbose"} <= set(read)
    busy = next(a for a in pod.argvs if "pg_stat_activity" in a[-1])
    assert busy[-1].endswith("WHERE datname = 'trading_bot'")
    assert busy[busy.index("-d") + 1] == "postgres"


def test_psql_rows_keep_nulls_and_quote_their_parameters() -> None:
    seen: list[list[str]] = []

    def run(argv: list[str]) -> tuple[int, str]:
        seen.append(argv)
        return 0, "it's\x1f\x1e\n\nb\x1f3\n"

    rows = Psql(run).rows("SELECT %s, %s", ("it's", "a,b"), database="db")
    assert rows == [("it's", None), ("b", "3")]
    assert seen[0][-1] == "SELECT 'it''s', 'a,b'"


# -- HTTP GETs from inside a pod ----------------------------------------------------------------
class Exchange(BaseHTTPRequestHandler):
    """The fake exchange's refusal of an unsigned account call; 200 for everything else."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        Exchange.seen.append((self.path, self.headers.get("X-MBX-APIKEY")))
        refused = self.path == "/api/v3/account"
        body = b'{"code":-2015,"msg":"Invalid API-key."}' if refused else b"{}"
        self.send_response(401 if refused else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Exchange)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        Exchange.seen.clear()


class LocalPods:
    """Pods whose every named port is ``port`` here; exec runs argv as a process here."""

    def __init__(self, port: int) -> None:
        def workload(*names: str) -> Any:
            ports = [SimpleNamespace(name=n, container_port=port) for n in names]
            return SimpleNamespace(
                spec=SimpleNamespace(
                    template=SimpleNamespace(
                        spec=SimpleNamespace(containers=[SimpleNamespace(ports=ports)])
                    )
                )
            )

        workloads = [
            ("Deployment", "exchange", workload("admin", "binance", "kucoin")),
            ("Deployment", "backend", workload("api", "health")),
        ]
        self.lab = SimpleNamespace(workloads=lambda: workloads)
        self.services: list[str] = []

    def exec(self, service: str, argv: list[str], *, check: bool = True) -> ExecResult:
        self.services.append(service)
        argv = [sys.executable if argv[0] == "python3" else argv[0], *argv[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return ExecResult(done.returncode, done.stdout + done.stderr)


def test_the_gets_are_sent_from_inside_the_services_pod(server: int) -> None:
    pods = LocalPods(server)
    findings = probe_calls(DOC, pod_get(pods))
    assert _keys(findings) == {(566, "contract.http-refused", "api.binance.com/api/v3/account")}
    assert findings[0].message == (
        "GET https://api.binance.com/api/v3/account answered 401 on the lab's exchange "
        '(binance port): {"code":-2015,"msg":"Invalid API-key."}'
    )
    assert ("/api/v3/account", "new-key") in Exchange.seen  # the runbook's own header
    assert ("/health", None) in Exchange.seen
    assert set(pods.services) == {"exchange", "backend"}


def test_a_get_to_a_port_the_pods_do_not_name_is_no_answer(server: int) -> None:
    get = pod_get(LocalPods(server))
    assert get("backend", "metrics", "/metrics", {}) == (
        0,
        "no port named metrics on the pods of backend",
    )
    status, body = get("exchange", "binance", "/api/v3/ping", {})
    assert (status, json.loads(body or "{}")) == (200, {})

"""The runbook's SQL on the lab's real PostgreSQL and its binaries in the lab's containers
(one lab for the module): the findings exactly, PostgreSQL's own errors, writes kept off the
real database, and the CLI's Docker run green against the project's baseline, on that lab
(`--lab`) and on a lab of its own."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from drillbook.checks import Finding, RunbookDoc, docker_checks
from drillbook.checks.sql import Psycopg, SqlCheck
from drillbook.drills import lab_state, residue
from drillbook.environments.docker import DockerLab
from support.lab_findings import LAB_FINDINGS
from support.labtools import DRILLBOOK, STACK, LabPool, cli_env, leftovers, run_label

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "fixtures" / "operational-runbooks.md"
TEXT = RUNBOOK.read_text()
EXPECTED = LAB_FINDINGS  # the same in the pods of a real-node cluster


@pytest.fixture(scope="module")
def lab(lab_pool: LabPool) -> DockerLab:
    """The session's shared stack lab, handed over after a verified reset."""
    return lab_pool.take(STACK)


def _sql(lab: DockerLab, doc: RunbookDoc) -> list[Finding]:
    """Only the SQL family: the mutations break SQL."""

    def in_postgres(argv: list[str]) -> tuple[int, str]:
        code, out = lab.container("postgres").exec_run(argv, user="postgres")
        return int(code), out.decode()

    return SqlCheck(Psycopg(lab.services()["postgres"].url), in_postgres).run(doc)[0]


def _keys(findings: list[Finding]) -> set[tuple[int, str, str]]:
    return {(f.line, f.code, f.subject) for f in findings}


def test_the_runbooks_sql_and_binaries(lab: DockerLab) -> None:
    findings, notes = docker_checks(RunbookDoc.load(RUNBOOK), lab)
    assert _keys(findings) == EXPECTED
    by_line = {f.line: f for f in findings}
    assert by_line[465].message.startswith("PostgreSQL 15.")
    assert by_line[465].message.endswith(
        'ERROR: column "mean_time" does not exist (SQLSTATE 42703)'
    )
    assert (
        by_line[465].hint == "pg_stat_statements has: mean_plan_time, mean_exec_time, min_plan_time"
    )
    assert "idx_trade_executions_executed_at" in by_line[480].message
    assert by_line[566].message.endswith(
        '401 on the lab\'s exchange (binance port): {"code":-2015,"msg":"Invalid API-key, IP, '
        'or permissions for action."}'
    )
    assert any("<pid> resolved to 2147483647" in n for n in notes)
    assert any("scratch copy drillbook_check_" in n for n in notes)


@pytest.mark.parametrize(
    ("old", "new", "line", "code", "error"),
    [
        (
            "SELECT symbol, side, size, entry_price,",
            "SELECT symbol, side, size, entry_prise,",
            271,
            "sql.undefined-column",
            'column "entry_prise" does not exist',
        ),
        (
            "SELECT * FROM trade_executions WHERE executed_at > NOW()",
            "SELECT * FROM trade_execution WHERE executed_at > NOW()",
            283,
            "sql.undefined-table",
            'relation "trade_execution" does not exist',
        ),
        (  # a data-modifying CTE reads as a SELECT: the read-only transaction refuses it
            "SELECT COUNT(*) FROM users; SELECT",
            "WITH d AS (DELETE FROM users RETURNING id) SELECT COUNT(*) FROM d; SELECT",
            518,
            "sql.read-only-sql-transaction",
            "cannot execute SELECT in a read-only transaction",
        ),
        (
            "UPDATE users SET password_reset_required",
            "UPDATE users SET password_reset",
            535,
            "sql.undefined-column",
            'column "password_reset" of relation "users" does not exist',
        ),
    ],
)
def test_a_broken_statement_gives_postgresqls_error(
    lab: DockerLab, old: str, new: str, line: int, code: str, error: str
) -> None:
    assert TEXT.count(old) == 1
    findings = _sql(lab, RunbookDoc.from_text(TEXT.replace(old, new), "copy.md"))
    new_findings = [f for f in findings if (f.line, f.code, f.subject) not in EXPECTED]
    assert [(f.line, f.code) for f in new_findings] == [(line, code)]
    assert f"ERROR: {error}" in new_findings[0].message


def test_writes_run_on_a_scratch_copy_never_on_the_database(lab: DockerLab) -> None:
    url = lab.services()["postgres"].url
    email = f"check-{uuid.uuid4().hex[:6]}@example.org"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO users (email, password_hash) VALUES (%s, 'x')", (email,))
        indexes = conn.execute("SELECT count(*) FROM pg_indexes").fetchone()
    _sql(lab, RunbookDoc.load(RUNBOOK))
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT password_reset_required FROM users WHERE email = %s", (email,)
        ).fetchone()
        assert row == (False,)  # the runbook's UPDATE users SET password_reset_required = true
        assert conn.execute("SELECT count(*) FROM pg_indexes").fetchone() == indexes
        scratch = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'drillbook_check_%'"
        ).fetchall()
        assert scratch == []


def _green_check(*lab: str) -> subprocess.CompletedProcess[str]:
    """``drillbook runbook check`` on the Docker lab ``lab`` names, against the baseline: green
    (exit 0, no new finding) with the accepted SQL finding in its JSON."""
    result = subprocess.run(
        [*DRILLBOOK, "runbook", "check", *lab, "--format", "json",
         "--baseline", str(ROOT / "fixtures" / "runbook-baseline.json")],
        capture_output=True, text=True, timeout=300, env=cli_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"code": "sql.undefined-column"' in result.stdout
    assert "0 new" in result.stderr
    return result


def test_the_cli_on_a_lab_that_is_up_is_green_with_the_baseline_and_leaves_it(
    lab: DockerLab,
) -> None:
    before, run_id = lab_state(lab), run_label(lab)
    result = _green_check("--lab", lab.name)
    assert f"lab {lab.name!r} (--lab: already up, checked as it is and left up)" in result.stderr
    assert "starting postgres" not in result.stderr
    assert run_label(lab) == run_id
    assert residue(before, lab_state(lab)) == []


def test_drills_on_a_lab_without_their_services_are_refused(lab: DockerLab, tmp_path: Path) -> None:
    """The stack lab has no alert pipeline, which `drillbook run` needs: exit 2, nothing run."""
    result = subprocess.run(
        [*DRILLBOOK, "run", "backend-killed", "--lab", lab.name, "--report", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=cli_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert (
        f"drillbook: error: --lab {lab.name}: lab {lab.name!r} is not ready (missing frontend, "
        "responder, alertmanager, prometheus, postgres-exporter, redis-exporter)"
    ) in result.stderr
    assert f"`drillbook lab up --name {lab.name}`" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_cli_on_docker_is_green_with_the_baseline_and_removes_its_lab() -> None:
    """A private lab: the point is that the check starts its own lab and removes it."""
    name = f"check-cli-{uuid.uuid4().hex[:6]}"
    _green_check("--name", name)
    import docker

    assert leftovers(docker.from_env(), name) == []

"""Every SQL statement of the runbook executed against the lab's real PostgreSQL: reads inside
a rolled-back read-only transaction, writes on a scratch copy of the database (dropped after),
psql meta-commands through the real psql. A failure carries PostgreSQL's own error."""

from __future__ import annotations

import difflib
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.errors import LabError
from drillbook.runbook import Command, SqlStatement

__all__ = ["SAMPLES", "SqlCheck", "classify", "resolve_placeholders"]

_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9-]*)>")
_READ = ("SELECT", "WITH", "SHOW", "EXPLAIN", "TABLE", "VALUES")
_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I
)
# typed sample values for the runbook's placeholders, with what they mean for the run
SAMPLES: dict[str, tuple[str, str]] = {
    "pid": ("2147483647", "a pid no backend has: nothing is terminated"),
    "target-time": ("2026-01-01 00:00:00+00", "a timestamp"),
    "last-known-good-time": ("2026-01-01 00:00:00+00", "a timestamp"),
}
Exec = Callable[[list[str]], tuple[int, str]]  # argv in the postgres container -> (code, output)


def resolve_placeholders(sql: str) -> tuple[str, list[str], list[str]]:
    """(sql with samples, notes on what was resolved, placeholders without a sample)."""
    notes: list[str] = []
    unknown: list[str] = []

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in SAMPLES:
            value, meaning = SAMPLES[name]
            notes.append(f"<{name}> resolved to {value} ({meaning})")
            return value
        if name.endswith("time"):
            notes.append(f"<{name}> resolved to 2026-01-01 00:00:00+00 (a timestamp)")
            return "2026-01-01 00:00:00+00"
        unknown.append(name)
        return match.group(0)

    return _PLACEHOLDER.sub(sub, sql), notes, unknown


def classify(sql: str) -> str:
    """``read`` (a rolled-back read-only transaction), ``write`` (the scratch copy) or
    ``autocommit`` (the scratch copy, outside a transaction: CREATE INDEX CONCURRENTLY)."""
    words = sql.split()
    first = words[0].upper() if words else ""
    if first in _READ:
        return "read"
    if re.search(r"\bCONCURRENTLY\b", sql, re.I) or first in ("VACUUM",):
        return "autocommit"
    return "write"


def _code(exc: Exception) -> str:
    name = type(exc).__name__
    return "sql." + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower().removesuffix("-error") or "error"


@dataclass
class SqlCheck:
    """``dsn`` of the lab's database (trading_bot); ``exec`` runs argv in its container."""

    dsn: str
    exec: Exec
    database: str = "trading_bot"
    user: str = "postgres"  # the database role psql and pg_dump connect as in the container

    def run(self, doc: RunbookDoc) -> tuple[list[Finding], list[str]]:
        import psycopg

        findings: list[Finding] = []
        notes: list[str] = []
        statements = [(c, s) for c in doc.commands() for s in c.sql]
        if not statements:
            return findings, notes
        with psycopg.connect(self.dsn, connect_timeout=10) as probe:
            version = str(probe.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        notes.append(f"SQL executed on PostgreSQL {version} (the lab's database {self.database})")
        with self._scratch(notes) as scratch:
            for command, statement in statements:
                found = self._one(doc, command, statement, scratch, version, notes)
                findings += found
        return findings, notes

    @contextmanager
    def _scratch(self, notes: list[str]) -> Iterator[str]:
        """A copy of the database for writes, dropped afterwards (also on errors)."""
        import psycopg

        name = f"drillbook_check_{secrets.token_hex(4)}"
        admin = self._dsn("postgres")
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            how = self._copy(conn, name)
        notes.append(f"writes ran on a scratch copy {name} ({how}), dropped afterwards")
        try:
            yield self._dsn(name)
        finally:
            with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _copy(self, conn: Any, name: str) -> str:
        """Create ``name`` as a copy of the database; how it was copied."""
        import psycopg

        # a template in use makes CREATE DATABASE wait 5 s before it fails: look first
        busy = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.database,)
        ).fetchone()
        if not (busy and busy[0]):
            try:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.database}"')
                return "a template copy"
            except psycopg.errors.ObjectInUse:
                pass  # someone connected meanwhile
        conn.execute(f'CREATE DATABASE "{name}"')
        dump = f"pg_dump -U {self.user} {self.database} | psql -q -U {self.user} {name}"
        code, out = self.exec(["sh", "-c", dump])
        if code != 0:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            raise LabError(f"copying {self.database} into {name} ({dump}): {out[-300:]}")
        return "pg_dump | psql: the backend is connected, so no template copy"

    def _dsn(self, database: str) -> str:
        base, _, _ = self.dsn.rpartition("/")
        return f"{base}/{database}"

    def _one(
        self,
        doc: RunbookDoc,
        command: Command,
        statement: SqlStatement,
        scratch: str,
        version: str,
        notes: list[str],
    ) -> list[Finding]:
        import psycopg

        sql, resolved, unknown = resolve_placeholders(statement.text)
        notes += [f"line {command.line}: {n}" for n in resolved]
        if unknown:
            return [
                doc.finding(
                    "sql",
                    "sql.unresolved-placeholder",
                    "warning",
                    command,
                    f"cannot execute: no sample value for <{'>, <'.join(unknown)}>",
                    hint="add a sample to drillbook.checks.sql.SAMPLES",
                    subject=statement.text,
                )
            ]
        if statement.meta:
            return self._meta(doc, command, statement, sql)
        kind = classify(sql)
        try:
            if kind == "read":  # autocommit: the BEGIN is ours, READ ONLY included
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as conn:
                    conn.execute("BEGIN READ ONLY")
                    try:
                        conn.execute(sql)
                    finally:
                        conn.execute("ROLLBACK")
            else:
                with psycopg.connect(scratch, autocommit=kind == "autocommit") as conn:
                    conn.execute(sql)
                    conn.commit()
                    return self._duplicate_index(doc, command, statement, conn)
        except psycopg.Error as exc:
            diag: Any = exc.diag
            primary = diag.message_primary or str(exc).strip()
            hint = diag.message_hint or self._columns_hint(exc, primary, sql)
            return [
                doc.finding(
                    "sql",
                    _code(exc),
                    "error",
                    command,
                    f"PostgreSQL {version}: ERROR: {primary}"
                    + (f" (SQLSTATE {diag.sqlstate})" if diag.sqlstate else ""),
                    hint=hint
                    or "fix the statement against the schema of fixtures/stack/migrations",
                    subject=f"{statement.text} :: {primary}",
                )
            ]
        return []

    def _columns_hint(self, exc: Exception, primary: str, sql: str) -> str:
        """For an undefined column PostgreSQL gives no hint for: the near names the
        statement's relations do have (mean_time -> mean_exec_time)."""
        import psycopg

        column = re.search(r'column "([^"]+)"', primary)
        if not isinstance(exc, psycopg.errors.UndefinedColumn) or column is None:
            return ""
        relations = re.findall(r"\b(?:FROM|JOIN|UPDATE)\s+([a-z_][a-z0-9_]*)", sql, re.I)
        with psycopg.connect(self.dsn, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c "
                "ON c.oid = a.attrelid WHERE c.relname = ANY(%s) AND a.attnum > 0 "
                "AND NOT a.attisdropped",
                ([r.lower() for r in relations],),
            ).fetchall()
        names = [str(r[1]) for r in rows]
        near = difflib.get_close_matches(column.group(1).split(".")[-1], names, n=3, cutoff=0.6)
        if not near:
            return ""
        where = ", ".join(sorted({str(r[0]) for r in rows}))
        return f"{where} has: {', '.join(near)}"

    def _duplicate_index(
        self, doc: RunbookDoc, command: Command, statement: SqlStatement, conn: Any
    ) -> list[Finding]:
        match = _INDEX.search(statement.text)
        if match is None:
            return []
        rows = conn.execute(
            "SELECT o.relname, pg_get_indexdef(x2.indexrelid) FROM pg_index x1 "
            "JOIN pg_class n ON n.oid = x1.indexrelid "
            "JOIN pg_index x2 ON x2.indrelid = x1.indrelid AND x2.indexrelid <> x1.indexrelid "
            "AND x2.indkey::text = x1.indkey::text "
            "JOIN pg_class o ON o.oid = x2.indexrelid WHERE n.relname = %s",
            (match.group(1).lower(),),
        ).fetchall()
        if not rows:
            return []
        return [
            doc.finding(
                "sql",
                "sql.duplicate-index",
                "warning",
                command,
                f"{match.group(1)} duplicates the existing index {rows[0][0]} ({rows[0][1]}): "
                "twice the write cost, no faster reads",
                hint=f"drop the step; {rows[0][0]} already serves the query",
                subject=match.group(1),
            )
        ]

    def _meta(
        self, doc: RunbookDoc, command: Command, statement: SqlStatement, sql: str
    ) -> list[Finding]:
        code, out = self.exec(["psql", "-U", self.user, "-d", self.database, "-c", sql])
        if code == 0 and "ERROR" not in out and "Did not find any" not in out:
            return []
        return [
            doc.finding(
                "sql",
                "sql.meta-command-failed",
                "error",
                command,
                f"psql {sql} exited {code}: {out.strip()[-300:]}",
                hint="run it by hand in the database container",
                subject=statement.text,
            )
        ]

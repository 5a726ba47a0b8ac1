"""Every SQL statement of the runbook executed against the lab's real PostgreSQL: reads inside
a rolled-back read-only transaction, writes on a scratch copy of the database (dropped after),
psql meta-commands through the real psql. A failure carries PostgreSQL's own error. Statements
reach PostgreSQL through a runner (``checks._postgres``): a psycopg connection on a Docker lab,
psql in the postgres pod on Kubernetes; the findings are the same."""

from __future__ import annotations

import difflib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from drillbook.checks._doc import RunbookDoc
from drillbook.checks._finding import Finding
from drillbook.checks._postgres import Exec, Psql, Psycopg, Runner, StatementFailed
from drillbook.errors import LabError
from drillbook.runbook import Command, SqlStatement

__all__ = ["SAMPLES", "Psql", "Psycopg", "Runner", "SqlCheck", "classify", "resolve_placeholders"]

_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9-]*)>")
_READ = ("SELECT", "WITH", "SHOW", "EXPLAIN", "TABLE", "VALUES")
_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I
)
_OBJECT_IN_USE = "55006"  # CREATE DATABASE ... TEMPLATE while someone is connected to it
# typed sample values for the runbook's placeholders, with what they mean for the run
SAMPLES: dict[str, tuple[str, str]] = {
    "pid": ("2147483647", "a pid no backend has: nothing is terminated"),
    "target-time": ("2026-01-01 00:00:00+00", "a timestamp"),
    "last-known-good-time": ("2026-01-01 00:00:00+00", "a timestamp"),
}


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


@dataclass
class SqlCheck:
    """``runner`` reaches the lab's database (trading_bot); ``exec`` runs argv in its container
    or pod (psql meta-commands, the pg_dump of a copy)."""

    runner: Runner
    exec: Exec
    database: str = "trading_bot"
    user: str = "postgres"  # the database role psql and pg_dump connect as in the container

    def run(self, doc: RunbookDoc) -> tuple[list[Finding], list[str]]:
        """Raises StatementFailed when the database cannot be reached or copied at all."""
        findings: list[Finding] = []
        notes: list[str] = []
        statements = [(c, s) for c in doc.commands() for s in c.sql]
        if not statements:
            return findings, notes
        version = str(self.runner.rows("SHOW server_version", database=self.database)[0][0])
        notes.append(
            f"SQL executed on PostgreSQL {version} (the lab's database {self.database}) "
            f"through {self.runner.via}"
        )
        with self._scratch(notes) as scratch:
            for command, statement in statements:
                found = self._one(doc, command, statement, scratch, version, notes)
                findings += found
        return findings, notes

    def _admin(self, sql: str) -> None:
        self.runner.execute(sql, "postgres", "autocommit")

    @contextmanager
    def _scratch(self, notes: list[str]) -> Iterator[str]:
        """A copy of the database for writes, dropped afterwards (also on errors)."""
        name = f"drillbook_check_{secrets.token_hex(4)}"
        try:  # a copy that fails half-way (a dump cut off, a pod gone) is dropped too
            how = self._copy(name)
            notes.append(f"writes ran on a scratch copy {name} ({how}), dropped afterwards")
            yield name
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _copy(self, name: str) -> str:
        """Create ``name`` as a copy of the database; how it was copied."""
        # a template in use makes CREATE DATABASE wait 5 s before it fails: look first
        busy = self.runner.rows(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
            (self.database,),
            database="postgres",
        )
        if not (busy and int(busy[0][0] or 0)):
            try:
                self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.database}"')
                return "a template copy"
            except StatementFailed as exc:
                if exc.sqlstate != _OBJECT_IN_USE:
                    raise  # someone connected meanwhile: dump and restore instead
        self._admin(f'CREATE DATABASE "{name}"')
        dump = f"pg_dump -U {self.user} {self.database} | psql -q -U {self.user} {name}"
        code, out = self.exec(["sh", "-c", dump])
        if code != 0:
            raise LabError(f"copying {self.database} into {name} ({dump}): {out[-300:]}")
        return "pg_dump | psql: the backend is connected, so no template copy"

    def _one(
        self,
        doc: RunbookDoc,
        command: Command,
        statement: SqlStatement,
        scratch: str,
        version: str,
        notes: list[str],
    ) -> list[Finding]:
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
            if kind == "read":
                self.runner.execute(sql, self.database, "read")
            else:
                self.runner.execute(sql, scratch, kind)
                return self._duplicate_index(doc, command, statement, scratch)
        except StatementFailed as exc:
            hint = exc.hint or self._columns_hint(exc, sql)
            return [
                doc.finding(
                    "sql",
                    exc.code,
                    "error",
                    command,
                    f"PostgreSQL {version}: ERROR: {exc.primary}"
                    + (f" (SQLSTATE {exc.sqlstate})" if exc.sqlstate else ""),
                    hint=hint
                    or "fix the statement against the schema of fixtures/stack/migrations",
                    subject=f"{statement.text} :: {exc.primary}",
                )
            ]
        return []

    def _columns_hint(self, exc: StatementFailed, sql: str) -> str:
        """For an undefined column PostgreSQL gives no hint for: the near names the
        statement's relations do have (mean_time -> mean_exec_time)."""
        column = re.search(r'column "([^"]+)"', exc.primary)
        if exc.code != "sql.undefined-column" or column is None:
            return ""
        relations = re.findall(r"\b(?:FROM|JOIN|UPDATE)\s+([a-z_][a-z0-9_]*)", sql, re.I)
        rows = self.runner.rows(  # the names are identifiers: a comma list is safe
            "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c "
            "ON c.oid = a.attrelid WHERE c.relname = ANY(string_to_array(%s, ',')) "
            "AND a.attnum > 0 AND NOT a.attisdropped",
            (",".join(r.lower() for r in relations),),
            database=self.database,
        )
        names = [str(r[1]) for r in rows]
        near = difflib.get_close_matches(column.group(1).split(".")[-1], names, n=3, cutoff=0.6)
        if not near:
            return ""
        where = ", ".join(sorted({str(r[0]) for r in rows}))
        return f"{where} has: {', '.join(near)}"

    def _duplicate_index(
        self, doc: RunbookDoc, command: Command, statement: SqlStatement, scratch: str
    ) -> list[Finding]:
        match = _INDEX.search(statement.text)
        if match is None:
            return []
        rows = self.runner.rows(
            "SELECT o.relname, pg_get_indexdef(x2.indexrelid) FROM pg_index x1 "
            "JOIN pg_class n ON n.oid = x1.indexrelid "
            "JOIN pg_index x2 ON x2.indrelid = x1.indrelid AND x2.indexrelid <> x1.indexrelid "
            "AND x2.indkey::text = x1.indkey::text "
            "JOIN pg_class o ON o.oid = x2.indexrelid WHERE n.relname = %s",
            (match.group(1).lower(),),
            database=scratch,
        )
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

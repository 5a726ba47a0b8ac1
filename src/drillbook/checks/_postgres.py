"""How the SQL check reaches PostgreSQL: :class:`Psycopg`, a connection by DSN (a Docker lab's
published port), or :class:`Psql`, the ``psql`` of the database's own container or pod run
through an exec (a Kubernetes pod, which the host cannot connect to). Both report a statement
PostgreSQL refuses as :class:`StatementFailed`, with the same code, message and hint, so the
findings read alike on every env."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from drillbook.errors import DrillbookError

__all__ = ["MODES", "Exec", "Psql", "Psycopg", "Runner", "StatementFailed", "code_for"]

#: read: in a rolled-back ``BEGIN READ ONLY``; write: one committed transaction;
#: autocommit: outside a transaction (CREATE INDEX CONCURRENTLY, CREATE DATABASE)
MODES = ("read", "write", "autocommit")
Exec = Callable[[list[str]], tuple[int, str]]  # argv in the postgres container -> (code, output)


def _code_name(name: str) -> str:
    """``UndefinedColumn`` -> ``sql.undefined-column`` (psycopg's class for the SQLSTATE)."""
    return "sql." + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower().removesuffix("-error")


def code_for(sqlstate: str) -> str:
    """The finding code of a SQLSTATE, named as psycopg names its exception class."""
    import psycopg.errors

    try:
        return _code_name(psycopg.errors.lookup(sqlstate).__name__)
    except KeyError:  # a state psycopg has no class for
        return "sql.database"


class StatementFailed(DrillbookError):
    """PostgreSQL refused a statement (or could not be reached): its primary message, SQLSTATE
    and hint as PostgreSQL gave them; ``code`` is the finding's (``sql.undefined-column``)."""

    def __init__(self, code: str, primary: str, *, sqlstate: str = "", hint: str = "") -> None:
        self.code, self.primary, self.sqlstate = code, primary, sqlstate
        super().__init__(primary, hint=hint or None)


class Runner(Protocol):
    """Statements on the lab's PostgreSQL; every method raises :class:`StatementFailed`."""

    via: str  # how statements reach it, for the report's notes

    def execute(self, sql: str, database: str, mode: str) -> None: ...

    def rows(
        self, sql: str, params: Sequence[str] = (), *, database: str
    ) -> list[tuple[Any, ...]]: ...


class Psycopg:
    """A psycopg connection per call, ``dsn``'s database swapped for the one asked."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.via = "a psycopg connection"

    def _dsn(self, database: str) -> str:
        base, _, _ = self.dsn.rpartition("/")
        return f"{base}/{database}"

    def execute(self, sql: str, database: str, mode: str) -> None:
        import psycopg

        try:
            autocommit = mode != "write"  # read: the BEGIN is ours, READ ONLY included
            with psycopg.connect(
                self._dsn(database), autocommit=autocommit, connect_timeout=10
            ) as conn:
                if mode == "read":
                    conn.execute("BEGIN READ ONLY")
                    try:
                        conn.execute(sql)
                    finally:
                        conn.execute("ROLLBACK")
                else:
                    conn.execute(sql)
                    conn.commit()
        except psycopg.Error as exc:
            raise self._failed(exc) from exc

    def rows(self, sql: str, params: Sequence[str] = (), *, database: str) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            with psycopg.connect(self._dsn(database), autocommit=True, connect_timeout=10) as c:
                return list(c.execute(sql, tuple(params)).fetchall())
        except psycopg.Error as exc:
            raise self._failed(exc) from exc

    @staticmethod
    def _failed(exc: Any) -> StatementFailed:
        diag = exc.diag
        return StatementFailed(
            _code_name(type(exc).__name__),
            diag.message_primary or str(exc).strip(),
            sqlstate=diag.sqlstate or "",
            hint=diag.message_hint or "",
        )


# psql's error report with VERBOSITY verbose: "ERROR:  42703: column ... does not exist"
_ERROR = re.compile(r"^(?:psql:[^\n]*?: )?(?:ERROR|FATAL|PANIC):\s+(?:([0-9A-Z]{5}): )?(.+)$", re.M)
_HINT = re.compile(r"^HINT:\s+(.+)$", re.M)
_FIELD, _NULL = "\x1f", "\x1e"


class Psql:
    """``psql`` run through ``exec`` (in the database's container or pod) as ``user``: one
    session per call, ``ON_ERROR_STOP``, errors in verbose form so the SQLSTATE comes back."""

    def __init__(self, exec: Exec, *, user: str = "postgres", via: str = "psql") -> None:
        self.exec = exec
        self.user = user
        self.via = via

    def _psql(self, database: str, *commands: str, out: Sequence[str] = ()) -> str:
        argv = ["psql", "-X", "-q", "-U", self.user, "-d", database, "-v", "ON_ERROR_STOP=1"]
        argv += ["-v", "VERBOSITY=verbose", *out]
        for command in commands:
            argv += ["-c", command]
        code, output = self.exec(argv)
        if code != 0:
            raise self._failed(code, output)
        return output

    def execute(self, sql: str, database: str, mode: str) -> None:
        # each -c is its own statement of one session: the BEGIN holds across them, and psql
        # ends the session (rolling back) at the first error
        commands = ("BEGIN READ ONLY", sql, "ROLLBACK") if mode == "read" else (sql,)
        self._psql(database, *commands, out=["-o", "/dev/null"])

    def rows(self, sql: str, params: Sequence[str] = (), *, database: str) -> list[tuple[Any, ...]]:
        from psycopg import sql as composed

        # psycopg's own quoting of the literals (SqlCheck's queries have no other braces)
        text = composed.SQL(sql.replace("%s", "{}")).format(*map(composed.Literal, params))
        fmt = ["-A", "-t", "-F", _FIELD, "-P", f"null={_NULL}"]
        output = self._psql(database, text.as_string(), out=fmt)
        return [  # split("\n"): splitlines() would also split at the NULL marker (\x1e)
            tuple(None if v == _NULL else v for v in line.split(_FIELD))
            for line in output.split("\n")
            if line
        ]

    @staticmethod
    def _failed(code: int, output: str) -> StatementFailed:
        match = _ERROR.search(output)
        if match is None:  # psql itself failed (no such binary, a bad option): its words
            return StatementFailed(
                "sql.psql-failed", f"psql exited {code}: {output.strip()[-300:]}"
            )
        sqlstate, primary = match.group(1) or "", match.group(2).strip()
        hint = _HINT.search(output)
        # no SQLSTATE: the connection failed, which psycopg raises as an OperationalError
        name = code_for(sqlstate) if sqlstate else "sql.operational"
        return StatementFailed(
            name, primary, sqlstate=sqlstate, hint=hint.group(1).strip() if hint else ""
        )

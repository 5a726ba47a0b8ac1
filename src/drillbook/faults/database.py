"""Database faults: a transaction that holds a lock (lock contention, a "slow query")."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from drillbook.environments.docker import DockerLab
from drillbook.errors import LabError
from drillbook.faults.exchange import admin_for
from drillbook.faults.security import INTRUDER_ORDER_PREFIX
from drillbook.waiting import Check

__all__ = [
    "Database",
    "LedgerWiped",
    "LockHeld",
    "TableCorrupted",
    "database",
    "exchange_fills",
    "replay_exchange_fills",
    "service_env",
]


class Database:
    """The lab's PostgreSQL as a function, ``db(sql, params=()) -> rows``, and
    ``db.transaction()`` around statements that go together."""

    def __init__(
        self,
        query: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]],
        transaction: Callable[[], contextlib.AbstractContextManager[Any]],
    ) -> None:
        self._query = query
        self.transaction = transaction

    def __call__(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._query(sql, params)


@contextlib.contextmanager
def database(lab: Any) -> Iterator[Database]:
    """The lab's PostgreSQL: a psycopg connection on the Docker lab (autocommit outside
    ``transaction()``), ``psql`` in the postgres pod on Kubernetes (each statement its own
    transaction: ``transaction()`` groups nothing there; values come back as text)."""
    from drillbook.environments.kubernetes import KubernetesLab, KubernetesPlatform

    if isinstance(lab, KubernetesLab):
        platform = KubernetesPlatform(lab)
        yield Database(lambda sql, params: list(platform.sql(sql, params)), contextlib.nullcontext)
        return
    import psycopg

    with psycopg.connect(
        lab.services()["postgres"].url, connect_timeout=5, autocommit=True
    ) as conn:

        def direct(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            cur = conn.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

        yield Database(direct, conn.transaction)


def service_env(lab: Any, service: str) -> dict[str, str]:
    """The environment ``service`` runs with: its container's (Docker), or ``env`` in its pod
    (Kubernetes: the Secrets' values resolved as the process sees them). Never logged."""
    from drillbook.environments.kubernetes import KubernetesLab, KubernetesPlatform

    if isinstance(lab, KubernetesLab):
        out = KubernetesPlatform(lab).exec(service, ["env"]).output
        items = out.splitlines()
    else:
        items = lab.container(service).attrs["Config"]["Env"] or []
    return dict(item.split("=", 1) for item in items if "=" in item)


_APPLICATION = "drillbook-lock-held"


@dataclass(frozen=True)
class LockHeld:
    """A session opens a transaction, takes ``mode`` on ``table`` and sits on it (idle in
    transaction) for at most ``max_hold_s``: every query of the bot on that table waits behind
    it. The runbook's remedy is ``pg_terminate_backend``; revert closes the session."""

    table: str = "positions"
    mode: str = "ACCESS EXCLUSIVE"
    max_hold_s: float = 300.0
    _held: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, init=False)

    def __post_init__(self) -> None:
        if not self.table.replace("_", "").isalnum():
            raise ValueError(f"LockHeld table={self.table!r}: expected a plain table name")
        modes = {"ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE"}
        if self.mode not in modes:
            raise ValueError(f"LockHeld mode={self.mode!r}: expected one of {sorted(modes)}")
        if not 0 < self.max_hold_s <= 3600:
            raise ValueError(f"LockHeld max_hold_s={self.max_hold_s}: expected 0 < s <= 3600")

    @property
    def name(self) -> str:
        return f"a transaction holds {self.mode} on {self.table}"

    def inject(self, lab: DockerLab) -> None:
        import psycopg

        conn = psycopg.connect(
            lab.services()["postgres"].url,
            connect_timeout=5,
            application_name=_APPLICATION,
        )
        conn.execute(f"LOCK TABLE {self.table} IN {self.mode} MODE")  # opens the transaction
        release = threading.Event()
        self._held.update(conn=conn, release=release)

        def hold() -> None:  # bounded: the lock goes at the latest after max_hold_s
            release.wait(self.max_hold_s)
            with contextlib.suppress(Exception):
                conn.close()

        threading.Thread(target=hold, name="drillbook-lock-held", daemon=True).start()

    def verify_active(self, lab: DockerLab) -> Check:
        import psycopg

        with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                "WHERE l.granted AND l.relation = %s::regclass AND a.application_name = %s",
                (self.table, _APPLICATION),
            ).fetchone()
        held = bool(row and row[0])
        return Check(held, f"lock on {self.table} {'held' if held else 'not held'}")

    def revert(self, lab: DockerLab) -> None:
        release = self._held.pop("release", None)
        conn = self._held.pop("conn", None)
        if release is not None:
            release.set()
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


_SAVED = "drillbook-saved-block"  # beside the data, in the volume: the block as it was


@dataclass(frozen=True)
class TableCorrupted:
    """Block 0 of ``table``'s heap file overwritten with random bytes while PostgreSQL is
    stopped (a torn write, a failing disk): every scan of the table fails with "invalid page in
    block 0". The original block is kept in the data volume; revert, when the table is still
    unreadable, stops PostgreSQL, writes the block back and starts it again. A recovery that
    restored the table (a new relation file) leaves nothing to put back."""

    table: str = "trade_executions"
    volume: str = "postgres-data"
    mount: str = "/var/lib/postgresql/data"

    def __post_init__(self) -> None:
        if not self.table.replace("_", "").isalnum():
            raise ValueError(f"TableCorrupted table={self.table!r}: expected a plain table name")

    @property
    def name(self) -> str:
        return f"{self.table}: block 0 of its heap file corrupted"

    def _readable(self, lab: DockerLab) -> Check:
        import psycopg

        try:
            with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
                n = conn.execute(f"SELECT count(*) FROM {self.table}").fetchone()
        except psycopg.errors.DataCorrupted as exc:
            return Check(False, str(exc).strip())
        return Check(True, f"{self.table}: {n[0] if n else 0} row(s) readable")

    def _offline(self, lab: DockerLab, script: str) -> str:
        """Run ``script`` in a throwaway container on the data volume (mounted at /data)
        while PostgreSQL is stopped; start PostgreSQL again whatever happens."""
        from drillbook.environments.docker import lab_labels
        from drillbook.waiting import Wait

        postgres = lab.container("postgres")
        # a fast shutdown (SIGINT to the postmaster itself: the container's first process,
        # runuser, does not forward it): clients cut off, a shutdown checkpoint, no crash
        # recovery afterwards (SIGTERM waits for clients; after SIGKILL, recovery would
        # replay full-page images over the damage)
        postgres.exec_run(
            ["sh", "-c", f"kill -INT $(head -1 {self.mount}/postmaster.pid)"], user="root"
        )
        try:
            try:
                postgres.wait(timeout=30)
            except Exception:
                postgres.stop(timeout=5)
            out = lab.client.containers.run(
                postgres.attrs["Config"]["Image"],
                entrypoint=["sh", "-ec"],
                command=[script],
                volumes={lab.settings.volume_name(self.volume): {"bind": "/data", "mode": "rw"}},
                network_mode="none",
                labels=lab_labels(lab.name, lab.run_id, "postgres"),
                user="root",
                remove=True,
            )
        finally:
            postgres.start()  # the same container: its host ports and volume as before

            def accepting() -> Check:
                import psycopg

                try:
                    psycopg.connect(lab.services()["postgres"].url, connect_timeout=2).close()
                except Exception as exc:
                    return Check(False, f"{type(exc).__name__}: {exc}")
                return Check(True, "accepting connections")

            Wait(timeout_s=60, poll_s=0.25).until(accepting, "postgres to accept connections")
        return out.decode() if isinstance(out, bytes) else str(out)

    def inject(self, lab: DockerLab) -> None:
        import psycopg

        with psycopg.connect(lab.services()["postgres"].url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT current_setting('data_directory'), pg_relation_filepath(%s)",
                (self.table,),
            ).fetchone()
        assert row is not None
        datadir, relpath = str(row[0]), str(row[1])
        if not datadir.startswith(self.mount):
            raise LabError(f"postgres keeps its data in {datadir}, not in {self.mount}")
        path = (datadir[len(self.mount) :].strip("/") + "/" + relpath).lstrip("/")
        self._offline(
            lab,
            f"cd /data; [ -f {_SAVED} ] || {{ dd if={path} of={_SAVED} bs=8192 count=1; "
            f"echo {path} > {_SAVED}.path; }}; "
            f"head -c 8192 /dev/urandom > /tmp/garbage; "
            f"dd if=/tmp/garbage of={path} bs=8192 count=1 conv=notrunc",
        )

    def verify_active(self, lab: DockerLab) -> Check:
        readable = self._readable(lab)
        return Check(not readable.ok, readable.detail)

    def revert(self, lab: DockerLab) -> None:
        try:
            readable = self._readable(lab).ok
        except Exception:
            return  # postgres is gone with the lab: nothing left to put back
        if readable:
            with contextlib.suppress(Exception):
                lab.container("postgres").exec_run(
                    ["sh", "-c", f"cd {self.mount}; rm -f {_SAVED} {_SAVED}.path"], user="root"
                )
            return
        self._offline(
            lab,
            f"cd /data; [ -f {_SAVED} ] || exit 0; "
            f'dd if={_SAVED} of="$(cat {_SAVED}.path)" bs=8192 count=1 conv=notrunc; '
            f"rm -f {_SAVED} {_SAVED}.path",
        )


_LEDGER_COLUMNS = (
    "id, client_order_id, exchange, exchange_order_id, symbol, side, price, quantity, fee, "
    "executed_at"
)


@dataclass(frozen=True)
class LedgerWiped:
    """Every row of ``trade_executions`` deleted (a bad statement, a faulty migration): the data
    loss of the runbook's Data Loss Recovery. ``data_integrity_check()`` then reports filled
    orders without their execution. Revert puts back exactly the rows it deleted (kept in
    memory, never written elsewhere) that are still missing."""

    _saved: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, init=False)

    @property
    def name(self) -> str:
        return "trade_executions wiped"

    def inject(self, lab: Any) -> None:
        with database(lab) as query:
            rows = query(f"DELETE FROM trade_executions RETURNING {_LEDGER_COLUMNS}")
        self._saved["rows"] = rows

    def verify_active(self, lab: Any) -> Check:
        with database(lab) as query:
            rows = query("SELECT count(*) FROM data_integrity_check()")
        lost = len(self._saved.get("rows", []))
        return Check(int(rows[0][0]) > 0, f"{lost} execution(s) deleted; {rows[0][0]} violation(s)")

    def revert(self, lab: Any) -> None:
        """Put back the deleted rows whose order is still there, then replay from the exchange
        what the ledger still lacks (a recovery that restored an older backup and stopped
        there): the ledger matches the exchange again either way."""
        rows = self._saved.pop("rows", [])
        placeholders = ", ".join(["%s"] * 10)
        with database(lab) as query:
            for row in rows:
                query(
                    f"INSERT INTO trade_executions ({_LEDGER_COLUMNS}) SELECT {placeholders} "
                    "WHERE NOT EXISTS (SELECT 1 FROM trade_executions WHERE client_order_id = %s)"
                    " AND EXISTS (SELECT 1 FROM orders WHERE client_order_id = %s"
                    " AND status = 'filled')"
                    " ON CONFLICT DO NOTHING",
                    (*row, row[1], row[1]),
                )
        replay_exchange_fills(lab)


def exchange_fills(lab: Any) -> list[tuple[str, dict[str, Any]]]:
    """The bot's fills as the exchange recorded them, (exchange, fill), in execution order,
    each once (an intruder's trades left out)."""
    env = service_env(lab, "exchange")
    admin = admin_for(lab)
    fills = [
        (exchange, f)
        for exchange in ("binance", "kucoin")
        for f in admin.fills(env[f"{exchange.upper()}_API_KEY"])
    ]
    seen: set[str] = set()
    unique = []
    for exchange, f in sorted(fills, key=lambda x: (x[1]["time_ms"], x[1]["trade_id"])):
        if f["client_order_id"].startswith(INTRUDER_ORDER_PREFIX):
            continue  # an intruder's trade with a leaked key (API Key Compromise): not the bot's
        if f["client_order_id"] not in seen:  # two keys of one account list a fill twice
            seen.add(f["client_order_id"])
            unique.append((exchange, f))
    return unique


def replay_exchange_fills(lab: Any) -> int:
    """Write every fill the ledger lacks back into it (order, execution, position change), in
    execution order; return how many. The runbook's "replay transactions" from the one external
    record a trading system has. Safe while the bot runs: a fill it records itself meanwhile
    is not recorded twice (``client_order_id`` is unique)."""
    symbols = {
        s.replace("/", ""): s
        for s in (_backend_symbols(lab) or "BTC/USDT,ETH/USDT,SOL/USDT").split(",")
    }
    fills = exchange_fills(lab)
    replayed = 0
    with database(lab) as query:
        known = {r[0] for r in query("SELECT client_order_id FROM trade_executions")}
        for exchange, f in fills:
            coid = f["client_order_id"]
            if coid in known:
                continue
            symbol = symbols.get(f["symbol"], f["symbol"])
            side = str(f["side"]).lower()
            price, qty = Decimal(f["price"]), Decimal(f["qty"])
            at = f["time_ms"] / 1000
            with query.transaction():
                found = query(
                    "SELECT intent, position_id, status FROM orders WHERE client_order_id = %s",
                    (coid,),
                )
                order = found[0] if found else None
                intent = order[0] if order else ("open" if side == "buy" else "close")
                position_id = order[1] if order else None
                if order is not None and order[2] == "filled":
                    pass  # its position change is in the ledger already: only the row is missing
                elif intent == "open":
                    position_id = query(
                        "INSERT INTO positions (symbol, side, size, entry_price, exchange, "
                        "opened_at) VALUES (%s, 'long', %s, %s, %s, to_timestamp(%s)) RETURNING id",
                        (symbol, qty, price, exchange, at),
                    )[0][0]
                else:
                    if position_id is None:
                        rows = query(
                            "SELECT id FROM positions WHERE status = 'open' AND symbol = %s AND "
                            "exchange = %s ORDER BY opened_at LIMIT 1",
                            (symbol, exchange),
                        )
                        position_id = rows[0][0] if rows else None
                    query(
                        "UPDATE positions SET status = 'closed', closed_at = to_timestamp(%s), "
                        "exit_price = %s, unrealized_pnl = 0 WHERE id = %s AND status = 'open'",
                        (at, price, position_id),
                    )
                query(
                    "INSERT INTO orders (client_order_id, exchange, symbol, side, quantity, "
                    "intent, position_id, status, created_at, updated_at) VALUES (%s, %s, %s, %s,"
                    " %s, %s, %s, 'filled', to_timestamp(%s), now()) ON CONFLICT "
                    "(client_order_id) DO UPDATE SET status = 'filled', position_id = "
                    "EXCLUDED.position_id, updated_at = now()",
                    (coid, exchange, symbol, side, qty, intent, position_id, at),
                )
                query(
                    "INSERT INTO trade_executions (client_order_id, exchange, exchange_order_id, "
                    "symbol, side, price, quantity, fee, executed_at) VALUES (%s, %s, %s, %s, %s,"
                    " %s, %s, 0, to_timestamp(%s))",
                    (coid, exchange, str(f["order_id"]), symbol, side, price, qty, at),
                )
            replayed += 1
    return replayed


def _backend_symbols(lab: Any) -> str | None:
    """The symbols the backend trades (its ``SYMBOLS``), None when it does not say."""
    try:
        return service_env(lab, "backend").get("SYMBOLS")
    except LabError:  # scaled to 0 for the recovery: the default symbols
        return None

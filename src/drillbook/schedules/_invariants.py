"""What must hold after every schedule, each as a named :class:`Verdict` with what it saw.

- no trade lost or duplicated: the ledger's executions against the exchange's fills, one to one
- positions reconcile with the exchange's balances (open size per exchange and asset)
- no position opened while ``ALLOW_NEW_POSITIONS=false`` (when the schedule halted)
- exposure under the limit after the emergency close (when the schedule halted)
- every fault reverted: none in effect, the exchange lists no active fault
- the lab back in steady state: every service healthy, the bot trading again

The ledger and balances settle a moment after the last fault (an order in flight when a fault
hit is reconciled on the bot's next tick), so those two are awaited, bounded, before they fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from drillbook.drills import Invariant
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import WaitTimeout
from drillbook.faults.database import exchange_fills
from drillbook.faults.exchange import admin_for, current_exchange_key
from drillbook.probes import ServiceHealthy
from drillbook.schedules._executor import Halt, ScheduleRun
from drillbook.waiting import Check, Wait
from fake_exchange._state import DEFAULT_BALANCES

if TYPE_CHECKING:
    from drillbook.schedules._menu import Menu

__all__ = ["Verdict", "check_invariants", "forget_unfilled", "wait_trading"]

SETTLE_S = 30.0  # how long the ledger may take to catch up after the last fault


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    detail: str


def _settled(check: Callable[[], Check], what: str, timeout_s: float) -> Check:
    try:
        return Wait(timeout_s=timeout_s, poll_s=0.5).until(check, what)
    except WaitTimeout as exc:
        return Check(False, exc.observed)


def trades_one_to_one(lab: DockerLab) -> Check:
    """Every fill of the exchange recorded once in ``trade_executions``, nothing else there.

    The ledger is read before the fills: the bot records a fill only after the exchange made
    it, so a row without its fill is never a race (a fill not yet recorded is, and is awaited).
    """
    rows = DockerPlatform(lab).sql(
        "SELECT client_order_id, exchange, exchange_order_id FROM trade_executions"
    )
    fills = {str(f["client_order_id"]): (ex, str(f["order_id"])) for ex, f in exchange_fills(lab)}
    ledger = Counter((str(r[1]), str(r[2])) for r in rows)
    coids = {str(r[0]) for r in rows}
    lost = sorted(set(fills) - coids)
    unknown = sorted(coids - set(fills))
    twice = sorted(f"{ex}:{oid} x{n}" for (ex, oid), n in ledger.items() if n > 1)
    ok = not (lost or unknown or twice)
    detail = (
        f"{len(fills)} fill(s), {len(rows)} execution(s)"
        + (f"; lost (filled, not recorded): {lost[:5]}" if lost else "")
        + (f"; recorded, not filled: {unknown[:5]}" if unknown else "")
        + (f"; recorded more than once: {twice[:5]}" if twice else "")
    )
    return Check(ok, detail, final=bool(twice or unknown))


def wait_trading(lab: DockerLab, timeout_s: float = 60) -> None:
    """Steady state before the first schedule: the bot has recorded a trade."""

    def traded() -> Check:
        n = DockerPlatform(lab).sql("SELECT count(*) FROM trade_executions")[0][0]
        return Check(int(n) > 0, f"{n} trade(s)")

    Wait(timeout_s=timeout_s, poll_s=0.5).until(traded, "the bot's first trade")


def forget_unfilled(lab: DockerLab) -> int:
    """Between examples: delete the executions (and their filled orders) the exchange never
    filled, a previous schedule's damage, so each schedule is judged on its own. Orders still
    pending are the bot's, in flight, and stay. Only rows older than the look at the fills are
    judged (one the bot records meanwhile has a fill the look did not see). Returns how many
    executions went."""
    platform = DockerPlatform(lab)
    newest = platform.sql("SELECT coalesce(max(id), 0) FROM trade_executions")[0][0]
    fills = [str(f["client_order_id"]) for _, f in exchange_fills(lab)]
    gone = platform.sql(
        "WITH gone AS (DELETE FROM trade_executions WHERE id <= %s AND "
        "NOT (client_order_id = ANY(%s)) RETURNING client_order_id), "
        "o AS (DELETE FROM orders WHERE status = 'filled' AND "
        "client_order_id IN (SELECT client_order_id FROM gone)) SELECT count(*) FROM gone",
        (newest, fills),
    )
    return int(gone[0][0])


def positions_reconcile(lab: DockerLab) -> Check:
    """Open size per exchange and asset in ``positions`` = the account's balance of that asset
    less what it started with (the fake exchange charges no fee)."""
    initial = dict(DEFAULT_BALANCES)
    rows = DockerPlatform(lab).sql(
        "SELECT exchange, split_part(symbol, '/', 1), sum(size) FROM positions "
        "WHERE status = 'open' GROUP BY 1, 2"
    )
    held = {(str(r[0]), str(r[1])): Decimal(r[2]) for r in rows}
    admin = admin_for(lab)
    diffs = []
    for exchange in ("binance", "kucoin"):
        balances = admin.balances(current_exchange_key(lab, exchange))
        for asset, start in initial.items():
            if asset == "USDT":
                continue
            bal = balances.get(asset, {"free": "0", "locked": "0"})
            delta = Decimal(bal["free"]) + Decimal(bal["locked"]) - start
            if delta != held.get((exchange, asset), Decimal(0)):
                ledger = held.get((exchange, asset), 0)
                diffs.append(f"{exchange} {asset}: exchange {delta:+}, ledger {ledger}")
    return Check(not diffs, "; ".join(diffs) or f"{len(held)} open holding(s) match the balances")


def faults_reverted(lab: DockerLab, run: ScheduleRun, *, exchange: bool = True) -> Check:
    still = []
    for fault in run.faults:
        try:
            if fault.verify_active(lab).ok:
                still.append(fault.name)
        except Exception as exc:
            still.append(f"{fault.name} (cannot tell: {type(exc).__name__}: {exc})")
    active = sorted(f["kind"] for f in admin_for(lab).faults()) if exchange else []
    ok = not still and not active and not run.revert_errors
    return Check(
        ok,
        f"in effect: {still or 'none'}"
        + (f"; exchange faults: {active or 'none'}" if exchange else "")
        + (f"; revert errors: {run.revert_errors}" if run.revert_errors else ""),
    )


def services_healthy(lab: DockerLab, timeout_s: float) -> Check:
    """Every service of the lab healthy by its own health check (the backup job aside: it
    runs and exits)."""
    probes = [ServiceHealthy(name) for name in sorted(lab.services()) if name != "backup"]

    def healthy() -> Check:
        for probe in probes:
            if not (c := probe.check(lab)).ok:
                return Check(False, f"{probe.name}: {c.detail}")
        return Check(True, f"every service healthy ({len(probes)})")

    return _settled(healthy, "every service healthy", timeout_s)


def steady_state(lab: DockerLab, timeout_s: float) -> Check:
    first = services_healthy(lab, timeout_s)
    if not first.ok:
        return first
    before = int(DockerPlatform(lab).sql("SELECT count(*) FROM trade_executions")[0][0])

    def trading() -> Check:
        n = int(DockerPlatform(lab).sql("SELECT count(*) FROM trade_executions")[0][0])
        return Check(n > before, f"{n - before} trade(s) since healthy")

    return _settled(trading, "the bot to trade again", timeout_s)


def _halted_positions(lab: DockerLab, run: ScheduleRun) -> Check:
    seen = [c for f in run.faults if isinstance(f, Halt) and (c := f.positions_opened(lab))]
    if not seen:
        return Check(True, "not exercised (no halt in the schedule)")
    return Check(all(c.ok for c in seen), "; ".join(c.detail for c in seen))


def _halt_checks(run: ScheduleRun, key: str, absent: str) -> Check:
    seen = run.observed(key)
    if not seen:
        return Check(True, absent)
    return Check(all(c.ok for c in seen), "; ".join(c.detail for c in seen))


def _project_checks(
    lab: DockerLab, run: ScheduleRun, menu: Menu, settle_s: float
) -> list[tuple[str, Callable[[], Check]]]:
    """A project's: its faults reverted, its services healthy, then each invariant its drills
    declare (awaited like the ledger: a check may need a moment after the last revert)."""
    platform = DockerPlatform(lab)
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("every fault reverted", lambda: faults_reverted(lab, run, exchange=False)),
        ("lab back in steady state", lambda: services_healthy(lab, settle_s * 2)),
    ]
    checks += [(inv.name, _awaited(inv, platform, settle_s)) for inv in menu.invariants]
    return checks


def _awaited(inv: Invariant[Any], platform: DockerPlatform, settle_s: float) -> Callable[[], Check]:
    return lambda: _settled(lambda: inv.check(platform), inv.name, settle_s)


def check_invariants(
    lab: DockerLab, run: ScheduleRun, *, settle_s: float = SETTLE_S, menu: Menu | None = None
) -> list[Verdict]:
    """Every invariant, in the order a person reads them; none raises (a failed look is a
    failed invariant with what went wrong). With a project's ``menu``: its own invariants
    (:func:`_project_checks`), not the trading bot's."""
    if menu is not None and not menu.reference:
        return _verdicts(_project_checks(lab, run, menu, settle_s))
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("every fault reverted", lambda: faults_reverted(lab, run)),
        ("lab back in steady state", lambda: steady_state(lab, settle_s * 2)),
        (
            "no trade lost or duplicated",
            lambda: _settled(lambda: trades_one_to_one(lab), "the ledger to match", settle_s),
        ),
        (
            "positions reconcile with exchange balances",
            lambda: _settled(lambda: positions_reconcile(lab), "balances to match", settle_s),
        ),
        (
            "no position opened while ALLOW_NEW_POSITIONS=false",
            lambda: _halted_positions(lab, run),
        ),
        (
            "exposure under the limit after emergency close",
            lambda: _halt_checks(run, "exposure", "not exercised (no halt in the schedule)"),
        ),
    ]
    return _verdicts(checks)


def _verdicts(checks: list[tuple[str, Callable[[], Check]]]) -> list[Verdict]:
    verdicts = []
    for name, check in checks:
        try:
            c = check()
        except Exception as exc:
            c = Check(False, f"{type(exc).__name__}: {exc}")
        verdicts.append(Verdict(name, c.ok, c.detail))
    return verdicts

"""The runbook's scenarios as drills on the Docker lab (budgets from the runbook, tightened by
the --drill-profile). Each scenario family has a sabotaged variant that must breach."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from drillbook.detection import Detection
from drillbook.drills import Drill, DrillRunner, Step, default_runbook
from drillbook.drills.catalog import docker_drills
from drillbook.environments.docker import DockerLab
from drillbook.errors import SLABreached
from drillbook.sla import DrillResult, Profile

pytestmark = pytest.mark.docker

CATALOG = {d.name: d for d in docker_drills(default_runbook())}
# sabotaged drills must fail fast: recovery budget far below the runbook's
STRICT = Profile("sabotage", limits={"time_to_recover": 6}, settle_s=1.0)


def sabotaged(name: str) -> Drill:
    """The drill with its remediation replaced by a step that does nothing."""
    return dataclasses.replace(CATALOG[name], steps=(Step("remediation removed", lambda p: None),))


@pytest.mark.drill("TradingBotDown")
@pytest.mark.parametrize("name", ["backend-killed", "backend-hung", "backend-crash-loop"])
def test_trading_bot_down(drill: object, name: str) -> None:
    result: DrillResult = drill(CATALOG[name])  # type: ignore[operator]
    assert result.steady_after


@pytest.mark.drill("DatabaseDown")
@pytest.mark.parametrize(
    "name",
    [
        "postgres-killed",
        "postgres-storage-unavailable",
        "backend-cut-from-postgres",
        "postgres-partitioned",
    ],
)
def test_database_down(drill: object, name: str) -> None:
    result: DrillResult = drill(CATALOG[name])  # type: ignore[operator]
    assert result.steady_after


@pytest.mark.parametrize(
    "name",
    [
        "backend-killed",
        "postgres-killed",
        "postgres-storage-unavailable",
        "postgres-corruption",
        "backend-cut-from-postgres",
        "exchange-key-revoked",
        "high-risk-exposure",
        "lock-contention",
        "exchanges-lost",
        "backend-cut-from-exchanges",
        "suspected-breach",
        "api-key-compromise",
        "ledger-data-loss",
        "emergency-shutdown",
        "controlled-shutdown",
        "planned-maintenance",
        "backend-memory-pressure",
        "backend-cpu-pressure",
    ],
)
def test_sabotaged_remediation_breaches_the_recovery_budget(lab: DockerLab, name: str) -> None:
    # HighCPUUsage needs the busy thread to get its CPU share, which three labs at once on two
    # cores do not guarantee (its alert came late in 2 of 4 parallel clean-clone runs): this
    # test judges the recovery, so that one drill runs on its probes; test_backend_cpu_pressure
    # proves its alert
    runner = (
        DrillRunner(lab, STRICT, detection=None)
        if name == "backend-cpu-pressure"
        else DrillRunner(lab, STRICT)
    )
    result = runner.run(sabotaged(name))
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase.startswith("time_to_recover")
    assert info.value.budget_s == 6
    assert "operational-runbooks.md:" in str(info.value)  # the budget says where it came from
    assert result.reverted
    assert result.steady_after  # the lab is restored all the same


@pytest.mark.drill("ExchangeConnectionLost")
@pytest.mark.parametrize("name", ["exchange-rate-limited", "exchange-key-revoked"])
def test_exchange_connection_lost(drill: object, name: str) -> None:
    result: DrillResult = drill(CATALOG[name])  # type: ignore[operator]
    assert result.steady_after
    assert "time_to_detect" in result.measured


@pytest.mark.drill("Network Partition")
def test_backend_cut_from_redis(drill: object) -> None:
    """The bot trades on without its cache and never twice (the ledger invariant)."""
    result: DrillResult = drill(CATALOG["backend-cut-from-redis"])  # type: ignore[operator]
    assert result.steady_after


@pytest.mark.drill("ExchangeConnectionLost")
@pytest.mark.parametrize("name", ["exchanges-lost", "backend-cut-from-exchanges"])
def test_exchanges_lost_or_cut_off(drill: object, name: str) -> None:
    """Both exchanges gone (outage: simulate, escalate) or cut off by a partition: recovered
    within budget, and the ledger matches the exchange's fills (nothing traded twice)."""
    result: DrillResult = drill(CATALOG[name])  # type: ignore[operator]
    assert result.steady_after
    assert result.reverted


@pytest.mark.drill("Suspected Breach")
def test_suspected_breach(drill: object, lab: DockerLab, request: pytest.FixtureRequest) -> None:
    """Each stage within its runbook window (tightened by the profile), contained, evidence
    captured without a secret in it."""
    result: DrillResult = drill(CATALOG["suspected-breach"])  # type: ignore[operator]
    assert result.steady_after
    evidence_dir = request.config.rootpath / "reports" / "evidence" / request.node.name
    for stage in ("Immediate Actions", "Investigation", "Containment"):
        assert f"window:{stage}" in result.measured
    windows = {b.measure: b.seconds for b in result.budgets}
    assert result.measured["window:Immediate Actions"] <= windows["window:Immediate Actions"]
    env = dict(e.split("=", 1) for e in lab.container("backend").attrs["Config"]["Env"] if "=" in e)
    secrets = [v for k, v in env.items() if k.endswith(("_SECRET", "PASSPHRASE", "_URL")) and v]
    assert len(secrets) >= 3
    evidence = sorted(p for p in evidence_dir.iterdir())
    assert any(p.name.startswith("audit-logs-24h") for p in evidence)
    assert "unknown:203.0.113.66" in (evidence_dir / "audit-logs-24h.tsv").read_text()
    for path in evidence:
        text = path.read_text()
        leaked = [k for k, v in env.items() if v in secrets and v in text]
        assert not leaked, f"{path.name} shows the value of {leaked}"


@pytest.mark.drill("API Key Compromise")
def test_api_key_compromise(drill: object, request: pytest.FixtureRequest) -> None:
    """The intruder's trades are found and reported, the leaked key stops working, the bot
    trades again with a new key at 1 %; each stage within its window."""
    result: DrillResult = drill(CATALOG["api-key-compromise"])  # type: ignore[operator]
    assert result.steady_after
    for stage in ("Immediate Response", "Recovery"):
        assert f"window:{stage}" in result.measured
    evidence_dir = request.config.rootpath / "reports" / "evidence" / request.node.name
    report = (evidence_dir / "unauthorized-trades.tsv").read_text().splitlines()
    assert len(report) >= 2
    assert all("intruder-" in line for line in report[1:])


def test_a_leaked_key_left_valid_is_not_contained(lab: DockerLab) -> None:
    """The runbook as written (no revocation at the exchange): the intruder keeps trading with
    the leaked key and the drill fails, saying so."""
    drill = CATALOG["api-key-compromise"]
    steps = tuple(s for s in drill.steps if "revoke" not in s.name)
    assert len(steps) == len(drill.steps) - 1
    result = DrillRunner(lab, STRICT).run(dataclasses.replace(drill, steps=steps))
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase.startswith("time_to_recover")
    assert "the leaked key still works at the exchange" in str(info.value), str(info.value)
    assert result.reverted
    assert result.steady_after


@pytest.mark.drill("Data Loss")
def test_ledger_data_loss_is_recovered_with_nothing_lost(drill: object) -> None:
    """Restore the last good backup, replay the trades after it from the exchange's fills: the
    ledger matches the exchange again and data_integrity_check() is empty (the invariants)."""
    result: DrillResult = drill(CATALOG["ledger-data-loss"])  # type: ignore[operator]
    assert result.steady_after
    assert "replay the trades after the backup from the exchange's fills" in result.steps


@pytest.mark.drill("Database Corruption")
def test_postgres_corruption(drill: object, request: pytest.FixtureRequest) -> None:
    """The damaged table is located, the emergency backup cannot read it (recorded), the
    newest verified backup is restored and the fills after it replayed: nothing lost."""
    result: DrillResult = drill(CATALOG["postgres-corruption"])  # type: ignore[operator]
    assert result.steady_after
    evidence_dir = request.config.rootpath / "reports" / "evidence" / request.node.name
    damaged = (evidence_dir / "damaged-relations.tsv").read_text()
    assert "trade_executions\tDAMAGED\t" in damaged
    assert "orders\treadable" in damaged


@pytest.mark.drill("HighMemoryUsage")
def test_backend_memory_pressure(drill: object) -> None:
    """Close to the limit, HighMemoryUsage fires; the raised limit clears it."""
    result: DrillResult = drill(CATALOG["backend-memory-pressure"])  # type: ignore[operator]
    assert result.steady_after
    assert "time_to_alert" in result.measured


@pytest.mark.drill("HighCPUUsage")
def test_backend_cpu_pressure(drill: object, lab: DockerLab) -> None:
    """At its CPU limit, HighCPUUsage fires; the raised limit clears it; the revert removes
    the limit again."""
    result: DrillResult = drill(CATALOG["backend-cpu-pressure"])  # type: ignore[operator]
    assert result.steady_after
    assert "time_to_alert" in result.measured
    assert not lab.container("backend").attrs["HostConfig"].get("NanoCpus")


@pytest.mark.drill("Immediate Shutdown")
def test_emergency_shutdown(drill: object, lab: DockerLab) -> None:
    """Everything stopped, every position closed, a verified emergency backup, nothing in
    flight lost; the teardown brings the system back."""
    result: DrillResult = drill(CATALOG["emergency-shutdown"])  # type: ignore[operator]
    assert result.steady_after
    assert lab.replicas("backend") == 1


@pytest.mark.drill("Controlled Shutdown")
def test_controlled_shutdown(drill: object, lab: DockerLab, request: pytest.FixtureRequest) -> None:
    """Drained, unrouted, scaled down with no order in flight, nothing lost; the teardown
    routes and starts everything again."""
    result: DrillResult = drill(CATALOG["controlled-shutdown"])  # type: ignore[operator]
    assert result.steady_after
    assert lab.replicas("backend") == 1
    evidence_dir = request.config.rootpath / "reports" / "evidence" / request.node.name
    assert "graceful shutdown: complete" in (evidence_dir / "graceful-shutdown.log").read_text()
    assert "no order in flight" in (evidence_dir / "scale-down.txt").read_text()


@pytest.mark.drill("Planned Maintenance")
def test_planned_maintenance(drill: object, lab: DockerLab, request: pytest.FixtureRequest) -> None:
    """Every stage of the window done, trading verified after it, the log written; the lab
    back at one frontend without maintenance flags."""
    result: DrillResult = drill(CATALOG["planned-maintenance"])  # type: ignore[operator]
    assert result.steady_after
    assert lab.replicas("frontend") == 1
    evidence_dir = request.config.rootpath / "reports" / "evidence" / request.node.name
    log = (evidence_dir / "maintenance-log.md").read_text()
    for done in ("backup", "maintenance mode on", "smoke test passed", "trading verified"):
        assert done in log
    rollback = (evidence_dir / "backend-rollback.yaml").read_text()
    env = lab.container("backend").attrs["Config"]["Env"]
    secret = next(e.split("=", 1)[1] for e in env if e.startswith("BINANCE_API_SECRET="))
    assert secret not in rollback  # the rollback plan never shows a secret


def test_restore_without_replay_loses_trades(lab: DockerLab) -> None:
    """The runbook's restore alone (the replay step removed) leaves the ledger short of the
    exchange's fills: the ledger invariant fails the drill, naming what is missing."""
    base = CATALOG["ledger-data-loss"]
    steps = tuple(s for s in base.steps if not s.name.startswith("replay"))
    result = DrillRunner(lab, Profile("no-replay", settle_s=1.0)).run(
        dataclasses.replace(base, steps=steps)
    )
    assert result.outcome == "failed"
    assert "the ledger matches the exchange's fills" in result.error
    assert "missing from the ledger" in result.error
    assert result.steady_after


def test_a_stage_over_its_window_breaches_naming_the_stage(lab: DockerLab) -> None:
    """A slow step in Immediate Actions: the drill breaches window:Immediate Actions, says by
    how much and which runbook line set the window."""
    base = CATALOG["suspected-breach"]
    slow = Step(
        "stuck on the phone for 2s", lambda p: __import__("time").sleep(2), "", "Immediate Actions"
    )
    drill = dataclasses.replace(base, steps=(slow, *base.steps))
    profile = Profile("windows", limits={"window:Immediate Actions": 1.5}, settle_s=1.0)
    result = DrillRunner(lab, profile).run(drill)
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase == "window:Immediate Actions"
    assert info.value.budget_s == 1.5
    assert "operational-runbooks.md:493" in str(info.value)
    assert result.steady_after


@pytest.mark.drill("HighRiskExposure")
def test_high_risk_exposure(drill: object) -> None:
    """Respond < 1 min, positions closed < 5 min (tightened by the profile), new positions
    halted: the invariant finds no open position after the halt."""
    result: DrillResult = drill(CATALOG["high-risk-exposure"])  # type: ignore[operator]
    assert result.steady_after
    assert list(result.steps)[:2] == [
        "kubectl set env deployment/backend EMERGENCY_RISK_MODE=true MAX_POSITION_SIZE_PERCENT=1",
        "curl -X POST http://backend-service:3000/api/risk/emergency-close",
    ]


@pytest.mark.drill("SlowQueries")
def test_lock_contention(drill: object) -> None:
    result: DrillResult = drill(CATALOG["lock-contention"])  # type: ignore[operator]
    assert result.steady_after


@pytest.mark.parametrize("name", ["backend-killed", "postgres-killed"])
def test_each_drill_times_its_alert_firing_and_clearing(lab: DockerLab, name: str) -> None:
    """The runbook starts at the alert: the clock records when it fired and when it cleared,
    each within the bound the lab's detection pipeline implies."""
    result = DrillRunner(lab, Profile("alerting", settle_s=1.0)).run(CATALOG[name])
    result.raise_for_outcome()
    phases = [m.phase.value for m in result.marks]
    assert phases.index("detected_alert") < phases.index("response_started")
    assert phases.index("recovered") < phases.index("alert_resolved")
    bounds = {b.measure: b for b in result.budgets}
    assert result.measured["time_to_alert"] <= bounds["time_to_alert"].seconds
    assert result.measured["time_to_clear"] <= bounds["time_to_clear"].seconds
    assert bounds["time_to_alert"].source.startswith("detection bound ")


def test_a_drill_whose_alert_never_fires_breaches_time_to_alert(
    lab: DockerLab, detection: Detection
) -> None:
    """A broken alert rule (the metric's job misspelled) fails the drill at the alert phase,
    with the bound and what Prometheus saw; the fault is reverted all the same."""
    rules = Path(__file__).resolve().parents[1] / "fixtures/monitoring/rules/trading-bot.yml"
    text = rules.read_text()
    assert 'max(up{job="backend"})' in text
    detection.replace_rules(text.replace('max(up{job="backend"})', 'max(up{job="backnd"})'))
    try:
        result = DrillRunner(lab, STRICT).run(CATALOG["backend-killed"])
    finally:
        detection.restore_rules()
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase == "time_to_alert (never reached)"
    message = str(info.value)
    assert "detection bound 7s = 0s signal + 1s scrape + 1s scrape_timeout" in message
    assert "rule TradingBotDown is inactive" in message
    assert result.reverted
    assert result.steady_after

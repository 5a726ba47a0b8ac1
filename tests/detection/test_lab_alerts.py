"""Each runbook alert in the real lab: cause the condition, the alert fires within its computed
bound; clear it, the alert resolves. A broken rule times out with a message that says why."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.detection import AlertTimeout, Detection, Responder
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.faults import ExchangeUnreachable, PriceShock
from drillbook.probes import ServiceHealthy
from drillbook.waiting import Check, Wait
from support.http import http
from support.labtools import DRILLBOOK, cli_env, running_lab

pytestmark = pytest.mark.docker

RULES = (
    Path(__file__).resolve().parents[2] / "fixtures" / "monitoring" / "rules" / "trading-bot.yml"
)

SERVICES = (
    "backend",
    "prometheus",
    "alertmanager",
    "responder",
    "postgres-exporter",
    "redis-exporter",
)


@pytest.fixture(scope="module")
def lab() -> Iterator[DockerLab]:
    """Private to this module: the whole alert pipeline with both exporters, and an alert
    history that only this module's faults wrote (the latencies are timed against it)."""
    with running_lab("detect", SERVICES) as lab:
        yield lab


@pytest.fixture(scope="module")
def detection(lab: DockerLab) -> Detection:
    return Detection.for_lab(lab)


@pytest.fixture(autouse=True)
def quiet(detection: Detection) -> None:
    """Every test starts with no alert pending or firing (earlier side effects resolved)."""
    detection.wait_quiet(timeout_s=30)


def healthy(lab: DockerLab, service: str, timeout_s: float = 60) -> float:
    """Wait until ``service`` answers its health check; return that moment (unix time)."""
    Wait(timeout_s=timeout_s, poll_s=0.1).until(
        lambda: ServiceHealthy(service).check(lab), f"{service} healthy"
    )
    return time.time()


def fires_within_bound(detection: Detection, name: str, since: int, caused_at: float) -> float:
    bound = detection.bound(name)
    event = detection.wait_for_alert(name, "firing", since=since)
    latency = event.received_at - caused_at
    assert latency <= bound.fire_s, f"{name} took {latency:.2f}s, bound {bound.explain()}"
    return latency


def resolves_within_bound(detection: Detection, name: str, since: int, cleared_at: float) -> None:
    bound = detection.bound(name)
    event = detection.wait_for_alert(name, "resolved", since=since)
    latency = event.received_at - cleared_at
    assert latency <= bound.resolve_s, (
        f"{name} resolved after {latency:.2f}s, bound {bound.explain('resolved')}"
    )


def test_trading_bot_down_when_the_backend_stops(lab: DockerLab, detection: Detection) -> None:
    mark = detection.mark()
    caused = time.time()
    lab.container("backend").kill()
    fires_within_bound(detection, "TradingBotDown", mark, caused)
    mark = detection.mark()
    lab.container("backend").start()
    resolves_within_bound(detection, "TradingBotDown", mark, healthy(lab, "backend"))


def test_database_down_when_postgres_stops(lab: DockerLab, detection: Detection) -> None:
    mark = detection.mark()
    caused = time.time()
    lab.container("postgres").kill()
    try:
        fires_within_bound(detection, "DatabaseDown", mark, caused)
    finally:
        mark = detection.mark()
        lab.container("postgres").start()
    resolves_within_bound(detection, "DatabaseDown", mark, healthy(lab, "postgres"))


def test_exchange_connection_lost_for_each_exchange(lab: DockerLab, detection: Detection) -> None:
    fault = ExchangeUnreachable("both")
    mark = detection.mark()
    caused = time.time()
    fault.inject(lab)
    try:
        assert fault.verify_active(lab).ok
        for exchange in ("binance", "kucoin"):
            event = detection.wait_for_alert(
                "ExchangeConnectionLost", since=mark, labels={"exchange": exchange}
            )
            bound = detection.bound("ExchangeConnectionLost")
            assert event.received_at - caused <= bound.fire_s, bound.explain()
    finally:
        mark = detection.mark()
        fault.revert(lab)
    cleared = time.time()
    for exchange in ("binance", "kucoin"):
        event = detection.wait_for_alert(
            "ExchangeConnectionLost", "resolved", since=mark, labels={"exchange": exchange}
        )
        bound = detection.bound("ExchangeConnectionLost")
        assert event.received_at - cleared <= bound.resolve_s, bound.explain("resolved")


def test_high_risk_exposure_on_a_price_shock(lab: DockerLab, detection: Detection) -> None:
    # hold positions: the bot opens them up to half its exposure limit and keeps them
    lab.recreate("backend", env={"HOLD_TICKS": "10000"})
    try:
        api = lab.services()["backend"].endpoint("api").url

        def exposure() -> Check:
            values = [v for _, v in detection.query("trading_bot_exposure_ratio")]
            limits = [v for _, v in detection.query("trading_bot_exposure_limit_ratio")]
            built = bool(values and limits) and max(values) >= 0.2 * max(limits)
            return Check(built, f"exposure {values} of limit {limits}")

        Wait(timeout_s=30, poll_s=0.25).until(exposure, "exposure to build up")
        _, risk = http(f"{api}/api/risk")
        mark = detection.mark()
        caused = time.time()
        shock = PriceShock(percent=400)  # a pump: open notional x5
        shock.inject(lab)
        fires_within_bound(detection, "HighRiskExposure", mark, caused)
        # the runbook's resolution: close every position
        mark = detection.mark()
        code, closed = http(
            f"{api}/api/risk/emergency-close", "POST", b'{"reason": "HighRiskExposure drill"}'
        )
        assert code == 200, closed
        assert closed["closed"], f"no position was open to close: {risk}"
        resolves_within_bound(detection, "HighRiskExposure", mark, time.time())
    finally:
        PriceShock(percent=400).revert(lab)
        lab.recreate("backend", env={"HOLD_TICKS": "4"})


def test_a_broken_rule_times_out_naming_the_alert_bound_and_observation(
    lab: DockerLab, detection: Detection
) -> None:
    text = RULES.read_text()
    assert 'max(up{job="backend"})' in text
    detection.replace_rules(text.replace('max(up{job="backend"})', 'max(up{job="backnd"})'))
    try:
        mark = detection.mark()
        lab.container("backend").kill()
        with pytest.raises(AlertTimeout) as timeout:
            detection.wait_for_alert("TradingBotDown", since=mark)
        message = str(timeout.value)
        bound = detection.bound("TradingBotDown")
        assert "alert TradingBotDown to be firing" in message
        assert f"detection bound {bound.explain()}" in message
        assert "rule TradingBotDown is inactive" in message
        assert "its expression returns no series" in message
        assert "TradingBotDown transitions seen: none" in message
    finally:
        detection.restore_rules()
        lab.container("backend").start()
        healthy(lab, "backend")


def test_drillbook_alerts_shows_rules_firing_and_history(lab: DockerLab) -> None:
    """The CLI over this lab run (the earlier tests in this module left a history)."""
    done = subprocess.run(
        [*DRILLBOOK, "alerts", "--name", lab.name, "--json"],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(done.stdout)
    assert {r["alert"] for r in report["rules"]} >= {
        "TradingBotDown",
        "DatabaseDown",
        "ExchangeConnectionLost",
        "HighRiskExposure",
    }
    assert report["timing"]["scrape_interval_s"] == 1.0
    states = [(e["name"], e["state"]) for e in report["history"]]
    assert ("TradingBotDown", "firing") in states
    assert ("DatabaseDown", "resolved") in states
    assert report["firing"] == []
    text = subprocess.run(
        [*DRILLBOOK, "alerts", "--name", lab.name],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "7s = 0s signal + 1s scrape + 1s scrape_timeout + 1s evaluation + 3s for" in text
    assert "firing now: nothing" in text


def test_auto_remediation_restarts_the_backend_when_trading_bot_down_fires(
    lab: DockerLab, detection: Detection
) -> None:
    """The responder's auto-remediation mode: the alert fires, the runbook's automation runs
    (a rollout restart of the backend), the service comes back and the alert resolves."""
    platform = DockerPlatform(lab)
    with Responder(detection, {"TradingBotDown": lambda e: platform.restart("backend")}) as r:
        mark = detection.mark()
        lab.container("backend").kill()
        response = r.wait_for_response("TradingBotDown", timeout_s=30)
    assert response is not None
    assert response.ok, response.error
    assert response.started_at >= response.event.received_at
    assert ServiceHealthy("backend").check(lab).ok
    detection.wait_for_alert("TradingBotDown", "resolved", since=mark)

"""The alert rules: valid for promtool, unit-tested with promtool, one per runbook alert, and the
detection bound each implies."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.detection import (
    DELIVERY_ALLOWANCE_S,
    AlertRule,
    PipelineTiming,
    detection_bound,
    load_rules,
    parse_duration,
)
from drillbook.drills import default_runbook
from drillbook.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "fixtures" / "monitoring"
RULES = MONITORING / "rules" / "trading-bot.yml"


def test_every_runbook_alert_has_a_rule_with_the_runbooks_severity() -> None:
    rules = {r.name: r for r in load_rules(RULES)}
    runbook = default_runbook()
    assert [a.name for a in runbook.alerts] == [
        "TradingBotDown",
        "DatabaseDown",
        "ExchangeConnectionLost",
        "HighRiskExposure",
    ]
    for alert in runbook.alerts:
        assert alert.name in rules, f"no rule for the runbook's alert {alert.name}"
        assert rules[alert.name].severity == alert.severity.lower()
        assert rules[alert.name].annotations["runbook"].endswith(alert.name)


def test_performance_alerts_point_at_runbook_sections() -> None:
    rules = {r.name: r for r in load_rules(RULES)}
    text = (ROOT / "fixtures" / "operational-runbooks.md").read_text()
    for name in ("HighCPUUsage", "HighMemoryUsage", "SlowQueries"):
        section = rules[name].annotations["runbook"].split(" / ")[-1]
        assert f"### {section}" in text, f"{name} points at a missing section {section!r}"
        assert rules[name].severity == "warning"


def test_high_risk_exposure_is_80_percent_of_the_limit() -> None:
    rule = next(r for r in load_rules(RULES) if r.name == "HighRiskExposure")
    assert "> 0.8 * max(trading_bot_exposure_limit_ratio" in rule.expr


@pytest.mark.docker
def test_promtool_checks_and_unit_tests_the_rules(monitoring_image: str) -> None:
    """`promtool check rules` and `promtool test rules` in the lab's own monitoring image."""
    import docker

    client = docker.from_env()
    out = client.containers.run(
        monitoring_image,
        [
            "sh",
            "-c",
            "promtool check rules rules/*.yml && cd tests && promtool test rules *.test.yml",
        ],
        working_dir="/m",
        volumes={str(MONITORING): {"bind": "/m", "mode": "ro"}},
        remove=True,
        stderr=True,
    ).decode()
    assert "SUCCESS: 7 rules found" in out
    assert "FAILED" not in out
    assert out.rstrip().endswith("SUCCESS"), out


@pytest.mark.docker
def test_promtool_catches_a_rule_that_never_fires(monitoring_image: str, tmp_path: Path) -> None:
    """The rule tests can fail: a TradingBotDown reading a misspelled job makes them fail."""
    import shutil

    import docker

    shutil.copytree(MONITORING, tmp_path / "m")
    broken = tmp_path / "m" / "rules" / "trading-bot.yml"
    text = broken.read_text()
    assert 'max(up{job="backend"})' in text
    broken.write_text(text.replace('max(up{job="backend"})', 'max(up{job="backnd"})'))
    out = (
        docker.from_env()
        .containers.run(
            monitoring_image,
            ["sh", "-c", "cd tests && promtool test rules *.test.yml; echo exit=$?"],
            working_dir="/m",
            volumes={str(tmp_path / "m"): {"bind": "/m", "mode": "ro"}},
            remove=True,
            stderr=True,
        )
        .decode()
    )
    assert "exit=1" in out
    assert "FAILED" in out
    assert "alertname: TradingBotDown" in out


def test_bound_adds_every_term() -> None:
    rule = AlertRule(
        "TradingBotDown", "up == 0", for_s=3.0, annotations={"drillbook_signal_delay": "1s"}
    )
    bound = detection_bound(rule, PipelineTiming(1.0, 1.0, 0.5, 2.0, scrape_timeout_s=0.8))
    assert bound.fire_s == 1 + 1 + 0.8 + 1 + 3 + 0.5 + DELIVERY_ALLOWANCE_S
    assert bound.resolve_s == 1 + 1 + 1 + 2 + DELIVERY_ALLOWANCE_S
    assert bound.explain() == (
        "8.3s = 1s signal + 1s scrape + 0.8s scrape_timeout + 1s evaluation + 3s for"
        " + 0.5s group_wait + 1s delivery"
    )
    assert bound.explain("resolved") == (
        "6s = 1s signal + 1s scrape + 1s evaluation + 2s group_interval + 1s delivery"
    )


def test_an_unset_scrape_timeout_is_prometheus_default() -> None:
    rule = AlertRule("A", "x")
    assert detection_bound(rule, PipelineTiming(1.0)).scrape_timeout_s == 1.0
    assert detection_bound(rule, PipelineTiming(60.0)).scrape_timeout_s == 10.0


def test_for_rounds_up_to_whole_evaluations() -> None:
    rule = AlertRule("A", "x", for_s=2.5)
    bound = detection_bound(rule, PipelineTiming(evaluation_interval_s=2.0))
    assert bound.pending_s == 4.0


@given(
    scrape=st.floats(0.1, 120),
    evaluation=st.floats(0.1, 120),
    for_s=st.floats(0, 600),
    extra=st.floats(0.001, 60),
)
def test_a_slower_pipeline_never_has_a_tighter_bound(
    scrape: float, evaluation: float, for_s: float, extra: float
) -> None:
    rule = AlertRule("A", "x", for_s=for_s)
    base = detection_bound(rule, PipelineTiming(scrape, evaluation))
    assert base.fire_s >= scrape + evaluation + for_s - 1e-6
    slower = detection_bound(rule, PipelineTiming(scrape + extra, evaluation))
    assert slower.fire_s >= base.fire_s
    longer_for = detection_bound(
        AlertRule("A", "x", for_s=for_s + extra), PipelineTiming(scrape, evaluation)
    )
    assert longer_for.fire_s >= base.fire_s


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3s", 3.0), ("500ms", 0.5), ("1m30s", 90.0), ("2h", 7200.0), ("0", 0.0), (5, 5.0)],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["3", "3x", "s", "1m 30s", "-1s"])
def test_parse_duration_rejects_what_prometheus_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="is not a duration"):
        parse_duration(text, where="rules.yml: groups[0].rules[0].for")


def test_bad_rule_files_name_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yml"
    bad.write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: soon\n"
    )
    with pytest.raises(ConfigError, match=r"rules\.yml: groups\[0\]\.rules\[0\]\.for: 'soon'"):
        load_rules(bad)
    bad.write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n")
    with pytest.raises(ConfigError, match=r"groups\[0\]\.rules\[0\] \(A\): 'expr'"):
        load_rules(bad)
    bad.write_text("groups: [\n")
    with pytest.raises(ConfigError, match=r"rules\.yml: line \d+ is not valid YAML"):
        load_rules(bad)
    with pytest.raises(ConfigError, match="cannot read rule file"):
        load_rules(tmp_path / "missing.yml")

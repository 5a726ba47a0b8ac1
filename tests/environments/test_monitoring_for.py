"""The detection pipeline of a project's lab: its Prometheus config and rules, written once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from drillbook.environments.monitoring import ScrapeTarget, monitoring_for
from drillbook.errors import ConfigError


def test_prometheus_scrapes_the_targets_and_evaluates_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLBOOK_CACHE", str(tmp_path / "cache"))
    rules = tmp_path / "alerts.yml"
    rules.write_text("groups: [{name: g, rules: [{alert: ApiDown, expr: up == 0}]}]\n")
    specs = monitoring_for(rules, [ScrapeTarget("api", "api:8080", "/metrics")])
    assert [s.name for s in specs] == ["responder", "alertmanager", "prometheus"]
    (mount,) = specs[2].mounts
    config = Path(mount.source)
    assert config.parent == tmp_path / "cache" / "monitoring"
    assert (config / "rules" / "project.yml").read_text() == rules.read_text()
    rendered = (config / "prometheus.yml").read_text()
    for placeholder in ("@SCRAPE_INTERVAL@", "@EVALUATION_INTERVAL@"):
        assert placeholder in rendered  # filled by the start script from the lab's settings
    parsed = yaml.safe_load(rendered.replace("@", ""))
    jobs = {j["job_name"]: j for j in parsed["scrape_configs"]}
    assert jobs["api"]["static_configs"][0]["targets"] == ["api:8080"]
    assert jobs["api"]["metrics_path"] == "/metrics"
    assert parsed["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "alertmanager:9093"
    ]
    assert (config / "start-prometheus.sh").stat().st_mode & 0o111  # still executable
    responder_mount = specs[0].mounts[0]
    assert Path(responder_mount.source).is_absolute()
    assert Path(responder_mount.source).name == "receiver.py"
    # the same content is the same directory; other rules another one
    assert monitoring_for(rules, [ScrapeTarget("api", "api:8080")])[2].mounts == (mount,)
    rules.write_text("groups: []\n")
    assert monitoring_for(rules, [ScrapeTarget("api", "api:8080")])[2].mounts != (mount,)


def test_unreadable_rules_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yml: cannot read the alert rules"):
        monitoring_for(tmp_path / "nope.yml", [])

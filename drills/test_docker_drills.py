"""The runbook's scenarios as drills on the Docker lab (budgets from the runbook, tightened by
the --drill-profile). Each scenario family has a sabotaged variant that must breach."""

from __future__ import annotations

import dataclasses

import pytest

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
    "name", ["postgres-killed", "backend-cut-from-postgres", "postgres-partitioned"]
)
def test_database_down(drill: object, name: str) -> None:
    result: DrillResult = drill(CATALOG[name])  # type: ignore[operator]
    assert result.steady_after


@pytest.mark.parametrize("name", ["backend-killed", "postgres-killed", "backend-cut-from-postgres"])
def test_sabotaged_remediation_breaches_the_recovery_budget(lab: DockerLab, name: str) -> None:
    result = DrillRunner(lab, STRICT).run(sabotaged(name))
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase.startswith("time_to_recover")
    assert info.value.budget_s == 6
    assert "operational-runbooks.md:" in str(info.value)  # the budget says where it came from
    assert result.reverted
    assert result.steady_after  # the lab is restored all the same


@pytest.mark.drill("ExchangeConnectionLost")
def test_exchange_rate_limited(drill: object) -> None:
    result: DrillResult = drill(CATALOG["exchange-rate-limited"])  # type: ignore[operator]
    assert result.steady_after
    assert "time_to_detect" in result.measured

"""Humans in the loop: the operator acknowledges, and a step done by hand is timed as theirs."""

from __future__ import annotations

import io

import pytest

from drillbook.drills import ConsoleOperator, Drill, DrillRunner, Step, default_runbook
from drillbook.drills.catalog import docker_drills
from drillbook.environments.docker import DockerLab
from drillbook.errors import SLABreached
from drillbook.sla import Phase, Profile

KILLED = next(d for d in docker_drills(default_runbook()) if d.name == "backend-killed")


def test_console_operator_reads_name_and_choices() -> None:
    out = io.StringIO()
    op = ConsoleOperator(io.StringIO("alice\n\nd\n"), out)
    assert op.acknowledge(KILLED, "backend healthy: 503") == "alice"
    step = Step("kubectl rollout restart deployment/backend", lambda p: None, "TBD res 3")
    assert op.perform(KILLED, step) == "automation"
    assert op.perform(KILLED, step) == "alice"  # the clock records who did it by hand
    text = out.getvalue()
    assert "TradingBotDown: backend-killed" in text
    assert "kubectl rollout restart deployment/backend (TBD res 3)" in text


def test_no_answer_is_an_error_not_a_silent_ack() -> None:
    with pytest.raises(EOFError, match="no answer from the operator"):
        ConsoleOperator(io.StringIO(""), io.StringIO()).acknowledge(KILLED, "x")


@pytest.mark.docker
def test_a_human_acknowledges_and_automation_restarts(lab: DockerLab) -> None:
    operator = ConsoleOperator(io.StringIO("alice\n\n"), io.StringIO())
    result = DrillRunner(lab, Profile("gameday-test", settle_s=1.0), operator=operator).run(KILLED)
    result.raise_for_outcome()
    responded = next(m for m in result.marks if m.phase == Phase.RESPONDED)
    assert (responded.actor, responded.detail) == ("alice", "acknowledged by alice")
    done = next(m for m in result.marks if m.phase == Phase.STEP_FINISHED)
    assert done.actor == "automation"


@pytest.mark.docker
def test_a_step_claimed_done_by_hand_but_not_done_breaches(lab: DockerLab) -> None:
    """The human says "done" and did nothing: the clock does not take their word for it."""
    operator = ConsoleOperator(io.StringIO("bob\nd\n"), io.StringIO())
    drill: Drill = KILLED
    strict = Profile("gameday-test", limits={"time_to_recover": 6}, settle_s=1.0)
    result = DrillRunner(lab, strict, operator=operator).run(drill)
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase.startswith("time_to_recover")
    done = next(m for m in result.marks if m.phase == Phase.STEP_FINISHED)
    assert done.actor == "bob"
    assert result.steady_after

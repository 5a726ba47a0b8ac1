"""The drill runner end to end in the Docker lab: pass, breach, failure, interruption."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from drillbook.drills import Drill, DrillRunner, Step
from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import LabError, SLABreached
from drillbook.faults import KillContainer
from drillbook.probes import ServiceHealthy
from drillbook.reporting import JsonJournal
from drillbook.sla import Budget, Phase, Profile
from drillbook.waiting import Check, Wait
from support.labtools import cli_env

pytestmark = pytest.mark.docker

FAST = Profile("test", factor=1.0, limits={"time_to_recover": 30}, settle_s=1.0)
RUNBOOK_BUDGETS = (
    Budget("time_to_detect", 30, "test"),
    Budget("time_to_respond", 120, "runbook: TradingBotDown Response Time (< 2 minutes)"),
    Budget("time_to_recover", 600, "runbook: TradingBotDown escalation (10 minutes)"),
)


def trading_bot_down(*steps: Step) -> Drill:
    return Drill(
        name="backend killed",
        alert="TradingBotDown",
        fault=KillContainer("backend"),
        probes=(ServiceHealthy("backend"),),
        steps=steps,
        budgets=RUNBOOK_BUDGETS,
    )


RESTART = Step("rollout restart deployment/backend", lambda p: p.restart("backend"), "resolution 3")


def test_backend_killed_then_restarted_within_budget(lab: DockerLab, tmp_path: Path) -> None:
    journal = JsonJournal(tmp_path, "run-1", FAST.name)
    result = DrillRunner(lab, FAST, [journal]).run(trading_bot_down(RESTART))
    assert result.outcome == "passed", result.error
    result.raise_for_outcome()
    phases = [m.phase for m in result.marks]
    assert phases[:3] == [Phase.STEADY_STATE, Phase.INJECTED, Phase.ACTIVE]
    assert (
        phases.index(Phase.DETECTED_PROBE)
        < phases.index(Phase.RECOVERED)
        < phases.index(Phase.VERIFIED)
    )
    assert 0 < result.measured["time_to_recover"] < 30
    assert result.steps["rollout restart deployment/backend"] > 0
    assert result.reverted
    assert result.steady_after
    data = json.loads((tmp_path / "run-1" / "journal.json").read_text())
    [entry] = data["drills"]
    assert entry["outcome"] == "passed"
    assert entry["budgets"][2]["seconds"] == 30  # tightened by the profile
    assert next(t["phase"] for t in entry["timeline"]) == "steady_state_verified"


def test_sabotaged_remediation_fails_with_the_breached_phase(lab: DockerLab) -> None:
    noop = Step("rollout restart (sabotaged: does nothing)", lambda p: None)
    profile = Profile("test", limits={"time_to_recover": 6}, settle_s=1.0)
    result = DrillRunner(lab, profile).run(trading_bot_down(noop))
    assert result.outcome == "breached"
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    err = info.value
    assert err.phase.startswith("time_to_recover")
    assert err.budget_s == 6
    assert err.observed_s > 6
    assert "over by" in str(err)
    assert result.reverted
    assert result.steady_after


def test_an_exception_in_a_step_still_reverts(lab: DockerLab) -> None:
    def boom(platform: DockerPlatform) -> None:
        raise RuntimeError("step exploded")

    result = DrillRunner(lab, FAST).run(trading_bot_down(Step("boom", boom)))
    assert result.outcome == "failed"
    assert "step exploded" in result.error
    assert result.reverted
    assert result.steady_after


SCRIPT = """
import signal, sys, time
# Ctrl-C interrupts, as in a terminal: started from a background job of a non-interactive
# shell (a CI script's `make test &`), this process would inherit SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
from drillbook.drills import Drill, DrillRunner, Step
from drillbook.environments.docker import DockerLab, LabSettings
from drillbook.faults import KillContainer
from drillbook.probes import ServiceHealthy
from drillbook.sla import Budget, Profile

lab = DockerLab(LabSettings(name=sys.argv[1]))

def slow(platform):
    print("STEP", flush=True)
    time.sleep(60)

drill = Drill("backend killed", "TradingBotDown", KillContainer("backend"),
              (ServiceHealthy("backend"),), (Step("slow", slow),),
              (Budget("time_to_recover", 120),))
DrillRunner(lab, Profile("t", settle_s=1.0)).run(drill)
"""


def test_sigint_during_the_fault_reverts_it(lab: DockerLab, tmp_path: Path) -> None:
    script = tmp_path / "drill.py"
    script.write_text(textwrap.dedent(SCRIPT))
    proc = subprocess.Popen(
        [sys.executable, str(script), lab.name], env=cli_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the fault is in effect and the slow step has begun
        assert line.strip() == "STEP"
        container = lab.client.containers.get(f"{lab.name}-backend")
        container.reload()
        assert container.status != "running"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode != 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ServiceHealthy("backend").check(lab).ok:
        time.sleep(0.2)
    assert ServiceHealthy("backend").check(lab).ok


class ExplodingProbe:
    """Healthy until the fault is in, then raises (a broken probe, not a broken service)."""

    name = "exploding probe"

    def __init__(self) -> None:
        self.calls = 0

    def check(self, lab: DockerLab) -> Check:
        self.calls += 1
        container = lab.container("backend")
        container.reload()
        if container.status != "running":
            raise RuntimeError("probe exploded")
        return Check(True, "fine")


class NeverActive:
    """A fault whose effect can never be proven: the runner must time out and still revert."""

    name = "a fault that never takes effect"

    def __init__(self) -> None:
        self.reverted = False

    def inject(self, lab: DockerLab) -> None:
        return None

    def verify_active(self, lab: DockerLab) -> Check:
        return Check(False, "no effect seen")

    def revert(self, lab: DockerLab) -> None:
        self.reverted = True


def test_an_exception_in_a_probe_still_reverts(lab: DockerLab) -> None:
    probe = ExplodingProbe()
    d = dataclasses.replace(trading_bot_down(RESTART), probes=(probe,))
    quick = Profile("test", limits={"time_to_detect": 2, "time_to_recover": 30}, settle_s=1.0)
    result = DrillRunner(lab, quick).run(d)
    assert result.outcome == "failed"
    assert "probe exploded" in result.error
    assert probe.calls > 1
    assert result.reverted
    assert result.steady_after
    Wait(timeout_s=30, poll_s=0.1).until(lambda: ServiceHealthy("backend").check(lab), "backend")


def test_a_timeout_still_reverts(lab: DockerLab, monkeypatch: pytest.MonkeyPatch) -> None:
    import drillbook.drills._runner as runner_module

    fault = NeverActive()
    monkeypatch.setattr(
        runner_module, "Wait", lambda timeout_s, poll_s: Wait(timeout_s=1, poll_s=poll_s)
    )
    d = dataclasses.replace(trading_bot_down(RESTART), fault=fault)
    result = DrillRunner(lab, FAST).run(d)
    assert result.outcome == "failed"
    assert "timed out" in result.error
    assert "a fault that never takes effect to take effect" in result.error
    assert fault.reverted


def test_a_container_outside_the_lab_is_refused(lab: DockerLab) -> None:
    outsider = lab.client.containers.run(
        lab.client.images.list(name="drillbook/redis")[0].id,
        name=f"{lab.name}-outsider",
        command=["sleep", "30"],
        entrypoint=[],
        detach=True,
        labels={"owner": "someone-else"},
    )
    try:
        with pytest.raises(LabError, match="refusing to touch container"):
            KillContainer("outsider").inject(lab)
        outsider.reload()
        assert outsider.status == "running"
    finally:
        outsider.remove(force=True)

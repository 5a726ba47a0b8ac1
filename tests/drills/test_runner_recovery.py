"""The runner's recovery wait with fakes (its own logic): a breach always says what the probes
saw, also when the runbook's steps ran past the whole recovery budget before any look."""

from __future__ import annotations

import dataclasses
import time

from drillbook.drills import DrillRunner, Step
from drillbook.sla import Profile
from support.fake_drill import Service, breached_drill

QUICK = Profile("test", settle_s=0.05)


def test_steps_past_the_budget_still_breach_with_what_the_probe_saw() -> None:
    svc = Service()
    slow = Step("restart svc, slowly", lambda platform: time.sleep(1.3), "runbook line 1")
    drill = dataclasses.replace(breached_drill("svc-down", svc), steps=(slow,))
    result = DrillRunner(object(), QUICK, [], detection=None).run(drill)  # type: ignore[arg-type]
    assert result.outcome == "breached"
    assert "time_to_recover (never reached)" in result.error
    assert (
        "last observed: (the runbook steps ran past the budget) svc up: connection refused"
        in result.error
    ), result.error
    assert "not looked yet" not in result.error
    assert result.reverted

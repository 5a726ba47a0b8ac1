"""A drill: the fault, what healthy means, the runbook's remediation and the budgets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from drillbook.environments.docker import DockerPlatform
from drillbook.faults import Fault
from drillbook.probes import Probe
from drillbook.sla import Budget
from drillbook.waiting import Check

__all__ = ["Drill", "Invariant", "Step"]


@dataclass(frozen=True)
class Step:
    """One runbook step as automation performs it; ``runbook`` cites the line it implements."""

    name: str
    run: Callable[[DockerPlatform], object]
    runbook: str = ""
    # the runbook stage it belongs to ("Immediate Actions"): a ``window:<stage>`` budget times
    # from the fault in effect to the stage's last step finished
    stage: str = ""


@dataclass(frozen=True)
class Invariant:
    """Checked once the lab has recovered (e.g. data_integrity_check() is empty)."""

    name: str
    check: Callable[[DockerPlatform], Check]


@dataclass(frozen=True)
class Drill:
    name: str
    alert: str
    fault: Fault
    probes: tuple[Probe, ...]
    steps: tuple[Step, ...]
    budgets: tuple[Budget, ...]
    invariants: tuple[Invariant, ...] = ()
    description: str = ""
    services: tuple[str, ...] = field(default=())  # what the drill needs in the lab
    # untimed, before the steady-state check: put the lab in the drill's starting condition
    setup: tuple[Step, ...] = field(default=())
    # untimed, after the revert: undo what setup and remediation changed (lab left as found)
    teardown: tuple[Step, ...] = field(default=())
    # False when the alert rightly stays firing after the mitigation (an exchange still in
    # maintenance while the bot simulates): time_to_clear is then not asserted
    alert_clears_on_recovery: bool = True
    # False when the platform itself heals the fault before the alert's rule can hold (the
    # other replicas keep serving through a bad rollout or a node lost): the alert is not
    # awaited, and time_to_alert not asserted; the drill's probes still detect the fault
    alert_fires: bool = True
    # what "recovered" means when it is not the steady state again: a contained breach (trading
    # stopped, secrets rotated) is recovered; probes still detect the fault's traces
    recovered_when: tuple[Probe, ...] = ()
    # a planned procedure (maintenance, a controlled shutdown): its "fault" is the decision to
    # start (faults.Scheduled), nothing is detected and no alert awaited
    planned: bool = False

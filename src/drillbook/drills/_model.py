"""A drill: the fault, what healthy means, the runbook's remediation and the budgets.

A :class:`Drill` runs on one lab backend. A :class:`PortableDrill` is one definition for both:
its steps and invariants use the verbs of the :class:`~drillbook.environments.base.Platform`
protocol, and where a part is the backend's own (the fault that kills a container or deletes
pods, the probe that reads a container's health check or a workload's readiness) it names both
with :class:`Each`. ``PortableDrill.on(tier)`` is the drill that backend runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from drillbook.environments.base import Platform, Tier
from drillbook.errors import ConfigError
from drillbook.faults import Fault
from drillbook.probes import Probe
from drillbook.sla import Budget
from drillbook.waiting import Check

__all__ = ["Drill", "Each", "Invariant", "PortableDrill", "Step"]

#: the verbs a step or an invariant uses: Platform for both backends, or one backend's class
P_contra = TypeVar("P_contra", contravariant=True)
T = TypeVar("T")


@dataclass(frozen=True)
class Step(Generic[P_contra]):
    """One runbook step as automation performs it; ``runbook`` cites the line it implements."""

    name: str
    run: Callable[[P_contra], object]
    runbook: str = ""
    # the runbook stage it belongs to ("Immediate Actions"): a ``window:<stage>`` budget times
    # from the fault in effect to the stage's last step finished
    stage: str = ""


@dataclass(frozen=True)
class Invariant(Generic[P_contra]):
    """Checked once the lab has recovered (e.g. data_integrity_check() is empty)."""

    name: str
    check: Callable[[P_contra], Check]


@dataclass(frozen=True)
class Drill:
    name: str
    alert: str
    fault: Fault[Any]
    probes: tuple[Probe[Any], ...]
    steps: tuple[Step[Any], ...]
    budgets: tuple[Budget, ...]
    invariants: tuple[Invariant[Any], ...] = ()
    description: str = ""
    services: tuple[str, ...] = field(default=())  # what the drill needs in the lab
    # untimed, before the steady-state check: put the lab in the drill's starting condition
    setup: tuple[Step[Any], ...] = field(default=())
    # untimed, after the revert: undo what setup and remediation changed (lab left as found)
    teardown: tuple[Step[Any], ...] = field(default=())
    # False when the alert rightly stays firing after the mitigation (an exchange still in
    # maintenance while the bot simulates): time_to_clear is then not asserted
    alert_clears_on_recovery: bool = True
    # False when the platform itself heals the fault before the alert's rule can hold (the
    # other replicas keep serving through a bad rollout or a node lost): the alert is not
    # awaited, and time_to_alert not asserted; the drill's probes still detect the fault
    alert_fires: bool = True
    # what "recovered" means when it is not the steady state again: a contained breach (trading
    # stopped, secrets rotated) is recovered; probes still detect the fault's traces
    recovered_when: tuple[Probe[Any], ...] = ()
    # a planned procedure (maintenance, a controlled shutdown): its "fault" is the decision to
    # start (faults.Scheduled), nothing is detected and no alert awaited
    planned: bool = False


@dataclass(frozen=True)
class Each(Generic[T]):
    """A part of a portable drill that each backend supplies its own way."""

    docker: T
    kubernetes: T

    def on(self, tier: Tier) -> T:
        if tier == "docker":
            return self.docker
        if tier == "kubernetes":
            return self.kubernetes
        raise ConfigError(f"unknown lab backend {tier!r}", hint="expected docker or kubernetes")


def _pick(value: T | Each[T], tier: Tier) -> T:
    return value.on(tier) if isinstance(value, Each) else value


@dataclass(frozen=True)
class PortableDrill:
    """One drill for both lab backends: named, alerted, stepped and budgeted once.

    Steps, setup, teardown and invariants take the :class:`Platform` protocol: they use only
    the verbs both backends implement. ``fault``, ``probes``, ``invariants`` and ``alert_fires``
    may be :class:`Each` where a backend supplies its own. ``description`` says what the drill
    is; ``notes`` adds what differs on one backend (why an alert stays quiet there)."""

    name: str
    alert: str
    fault: Fault[Any] | Each[Fault[Any]]
    probes: tuple[Probe[Any], ...] | Each[tuple[Probe[Any], ...]]
    steps: tuple[Step[Platform], ...]
    budgets: tuple[Budget, ...]
    invariants: tuple[Invariant[Platform], ...] | Each[tuple[Invariant[Any], ...]] = ()
    description: str = ""
    setup: tuple[Step[Platform], ...] = ()
    teardown: tuple[Step[Platform], ...] = ()
    alert_clears_on_recovery: bool = True
    alert_fires: bool | Each[bool] = True
    notes: Each[str] = Each("", "")

    def on(self, tier: Tier) -> Drill:
        """The drill as ``tier`` runs it."""
        note = self.notes.on(tier)
        return Drill(
            name=self.name,
            alert=self.alert,
            fault=_pick(self.fault, tier),
            probes=_pick(self.probes, tier),
            steps=self.steps,
            budgets=self.budgets,
            invariants=_pick(self.invariants, tier),
            description=f"{self.description}. {note}" if note else self.description,
            setup=self.setup,
            teardown=self.teardown,
            alert_clears_on_recovery=self.alert_clears_on_recovery,
            alert_fires=_pick(self.alert_fires, tier),
        )

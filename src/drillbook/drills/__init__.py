"""Drills: a fault, the runbook's remediation, budgets; and the runner that always reverts."""

from drillbook.drills._budgets import budgets_for, default_runbook
from drillbook.drills._model import Drill, Invariant, Step
from drillbook.drills._operator import ConsoleOperator, Operator
from drillbook.drills._residue import kubernetes_state, lab_state, residue
from drillbook.drills._runner import DrillRunner
from drillbook.reporting import RunEventHandler
from drillbook.sla import DrillResult

__all__ = [
    "ConsoleOperator",
    "Drill",
    "DrillResult",
    "DrillRunner",
    "Invariant",
    "Operator",
    "RunEventHandler",
    "Step",
    "budgets_for",
    "default_runbook",
    "kubernetes_state",
    "lab_state",
    "residue",
]

"""The runbook model: markdown parsed into alerts, procedures, steps, commands and budgets."""

from drillbook.runbook._model import (
    AlertSection,
    Budget,
    Command,
    EscalationRule,
    HttpCall,
    KubectlRef,
    Placeholder,
    Procedure,
    Runbook,
    SqlStatement,
    Step,
)
from drillbook.runbook._parser import load_runbook, parse_runbook
from drillbook.runbook._render import render_runbook, runbook_to_json

__all__ = [
    "AlertSection",
    "Budget",
    "Command",
    "EscalationRule",
    "HttpCall",
    "KubectlRef",
    "Placeholder",
    "Procedure",
    "Runbook",
    "SqlStatement",
    "Step",
    "load_runbook",
    "parse_runbook",
    "render_runbook",
    "runbook_to_json",
]

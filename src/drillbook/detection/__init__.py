"""Detection: when did the runbook's alert fire, and did it clear?

The lab runs Prometheus (the trading team's rules in ``fixtures/monitoring/rules``), Alertmanager
and the ``responder`` (:mod:`drillbook.detection.receiver`), which records every alert's firing
and resolved times as the webhooks arrive. :class:`Detection` reads that history
(:meth:`~Detection.wait_for_alert`, :meth:`~Detection.history`), the rules' live state and the
detection bound each alert's configuration implies; :class:`Responder` runs the matching runbook
automation when an alert fires (the auto-remediation mode).
"""

from drillbook.detection._client import AlertEvent, AlertTimeout, Detection, RuleState
from drillbook.detection._responder import Responder, Response
from drillbook.detection._rules import (
    DELIVERY_ALLOWANCE_S,
    AlertRule,
    DetectionBound,
    PipelineTiming,
    detection_bound,
    load_rules,
    parse_duration,
)

__all__ = [
    "DELIVERY_ALLOWANCE_S",
    "AlertEvent",
    "AlertRule",
    "AlertTimeout",
    "Detection",
    "DetectionBound",
    "PipelineTiming",
    "Responder",
    "Response",
    "RuleState",
    "detection_bound",
    "load_rules",
    "parse_duration",
]

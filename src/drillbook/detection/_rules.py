"""Alert rules and the detection bound they imply.

The bound is the worst case from "the condition is true" to "the responder has the webhook":

    signal delay      the exporter or the bot noticing (annotation ``drillbook_signal_delay``)
  + scrape interval   the next scrape that sees it
  + evaluation        the next rule evaluation that sees the sample
  + ``for:``          rounded up to whole evaluations: pending -> firing
  + group_wait        Alertmanager holding a new group
  + delivery          Prometheus -> Alertmanager -> webhook on one host (0.5 s allowance)

A resolution is bounded the same way without ``for:`` and with ``group_interval`` instead of
``group_wait`` (Alertmanager sends a group's changes once per group interval).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from drillbook.errors import ConfigError

__all__ = [
    "DELIVERY_ALLOWANCE_S",
    "AlertRule",
    "DetectionBound",
    "PipelineTiming",
    "detection_bound",
    "load_rules",
    "parse_duration",
]

# Alertmanager's webhook to the responder and the wait's poll: 0.5 s held on an idle machine,
# but the clean-clone CI run (3 labs at once on 2 cores) saw TradingBotDown firing in
# Prometheus and not yet at the responder 0.6 s on; the allowance is the pipeline's, not
# the runbook's (its budgets are untouched)
DELIVERY_ALLOWANCE_S = 1.0

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str | float | int, *, where: str = "duration") -> float:
    """Prometheus' duration syntax (``1m30s``, ``500ms``) or a number of seconds -> seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    raw = str(text).strip()
    if raw in ("", "0"):
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION.finditer(raw):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(raw):
        raise ConfigError(f"{where}: {raw!r} is not a duration", hint="expected e.g. 3s, 1m, 500ms")
    return total


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule: its name, expression, ``for:``, labels and annotations."""

    name: str
    expr: str
    for_s: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    group: str = ""

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    @property
    def signal_delay_s(self) -> float:
        raw = self.annotations.get("drillbook_signal_delay", "0s")
        return parse_duration(raw, where=f"alert {self.name}: annotation drillbook_signal_delay")


@dataclass(frozen=True)
class PipelineTiming:
    """The detection pipeline's intervals as the running (or configured) lab has them."""

    scrape_interval_s: float = 1.0
    evaluation_interval_s: float = 1.0
    group_wait_s: float = 0.0
    group_interval_s: float = 1.0
    # None: as Prometheus does when unset, the smaller of 10s and the scrape interval
    scrape_timeout_s: float | None = None

    @property
    def effective_scrape_timeout_s(self) -> float:
        if self.scrape_timeout_s is None:
            return min(10.0, self.scrape_interval_s)
        return self.scrape_timeout_s


@dataclass(frozen=True)
class DetectionBound:
    """How long an alert may take to reach the responder, term by term."""

    alert: str
    signal_delay_s: float
    scrape_interval_s: float
    evaluation_interval_s: float
    for_s: float
    group_wait_s: float
    group_interval_s: float
    delivery_s: float = DELIVERY_ALLOWANCE_S
    # a target that hangs (process stopped, deadlocked) yields its `up == 0` sample only when
    # the scrape times out: the worst case for firing waits for that too
    scrape_timeout_s: float = 0.0

    @property
    def pending_s(self) -> float:
        """``for:`` rounded up to whole evaluations (firing happens at an evaluation)."""
        if self.for_s <= 0:
            return 0.0
        return (
            math.ceil(self.for_s / self.evaluation_interval_s - 1e-9) * self.evaluation_interval_s
        )

    @property
    def fire_s(self) -> float:
        return round(
            self.signal_delay_s
            + self.scrape_interval_s
            + self.scrape_timeout_s
            + self.evaluation_interval_s
            + self.pending_s
            + self.group_wait_s
            + self.delivery_s,
            3,
        )

    @property
    def resolve_s(self) -> float:
        return round(
            self.signal_delay_s
            + self.scrape_interval_s
            + self.evaluation_interval_s
            + self.group_interval_s
            + self.delivery_s,
            3,
        )

    def for_state(self, state: str) -> float:
        return self.resolve_s if state == "resolved" else self.fire_s

    def explain(self, state: str = "firing") -> str:
        terms = [("signal", self.signal_delay_s), ("scrape", self.scrape_interval_s)]
        if state == "resolved":
            terms += [
                ("evaluation", self.evaluation_interval_s),
                ("group_interval", self.group_interval_s),
            ]
        else:
            terms += [
                ("scrape_timeout", self.scrape_timeout_s),
                ("evaluation", self.evaluation_interval_s),
                ("for", self.pending_s),
                ("group_wait", self.group_wait_s),
            ]
        terms.append(("delivery", self.delivery_s))
        parts = " + ".join(f"{value:g}s {name}" for name, value in terms)
        return f"{self.for_state(state):g}s = {parts}"


def detection_bound(rule: AlertRule, timing: PipelineTiming) -> DetectionBound:
    return DetectionBound(
        alert=rule.name,
        signal_delay_s=rule.signal_delay_s,
        scrape_interval_s=timing.scrape_interval_s,
        evaluation_interval_s=timing.evaluation_interval_s,
        for_s=rule.for_s,
        group_wait_s=timing.group_wait_s,
        group_interval_s=timing.group_interval_s,
        scrape_timeout_s=timing.effective_scrape_timeout_s,
    )


def load_rules(path: str | Path) -> list[AlertRule]:
    """The alerting rules of a Prometheus rule file; errors name the file and the field."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read rule file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{line} is not valid YAML: {exc}") from exc
    return rules_from_document(doc, str(path))


def rules_from_document(doc: Any, source: str) -> list[AlertRule]:
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        raise ConfigError(f"{source}: expected a mapping with a 'groups' list")
    rules: list[AlertRule] = []
    for gi, group in enumerate(doc["groups"]):
        if not isinstance(group, dict) or not isinstance(group.get("rules", []), list):
            raise ConfigError(f"{source}: groups[{gi}]: expected a mapping with a 'rules' list")
        for ri, raw in enumerate(group.get("rules") or []):
            where = f"{source}: groups[{gi}].rules[{ri}]"
            if not isinstance(raw, dict):
                raise ConfigError(f"{where}: expected a mapping")
            if "alert" not in raw:
                continue  # a recording rule
            if not isinstance(raw.get("expr"), str) or not raw["expr"].strip():
                raise ConfigError(f"{where} ({raw['alert']}): 'expr' must be a PromQL string")
            rules.append(
                AlertRule(
                    name=str(raw["alert"]),
                    expr=" ".join(raw["expr"].split()),
                    for_s=parse_duration(raw.get("for", 0), where=f"{where}.for"),
                    labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
                    annotations={str(k): str(v) for k, v in (raw.get("annotations") or {}).items()},
                    group=str(group.get("name", "")),
                )
            )
    return rules

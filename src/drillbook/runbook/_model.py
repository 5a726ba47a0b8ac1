"""The runbook as typed, frozen objects: alerts, procedures, steps, commands, budgets."""

from __future__ import annotations

from dataclasses import dataclass, field

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
]


@dataclass(frozen=True)
class Budget:
    """A time the runbook states: ``kind`` is respond, restore, positions_closed or window."""

    kind: str
    seconds: float
    text: str
    line: int


@dataclass(frozen=True)
class Placeholder:
    name: str  # e.g. backend-pod, from <backend-pod>
    line: int
    column: int


@dataclass(frozen=True)
class SqlStatement:
    text: str
    meta: bool  # a psql meta-command such as \dt
    line: int


@dataclass(frozen=True)
class HttpCall:
    method: str
    url: str
    body: str | None
    line: int


@dataclass(frozen=True)
class KubectlRef:
    verb: str
    resource: str | None
    name: str | None
    namespace: str | None
    selector: str | None
    interactive: bool  # -it: needs a terminal


@dataclass(frozen=True)
class Command:
    text: str
    line: int
    tool: str
    argv: tuple[str, ...]
    placeholders: tuple[Placeholder, ...] = ()
    substitutions: tuple[str, ...] = ()  # $(...) parts, e.g. $(date +%s)
    sql: tuple[SqlStatement, ...] = ()
    http: HttpCall | None = None
    kubectl: KubectlRef | None = None
    comment: str = ""


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    line: int
    commands: tuple[Command, ...] = ()
    comments: tuple[str, ...] = ()


@dataclass(frozen=True)
class EscalationRule:
    text: str
    line: int
    threshold: Budget | None = None


@dataclass(frozen=True)
class AlertSection:
    name: str
    severity: str
    response_time: Budget
    line: int
    symptoms: tuple[str, ...] = ()
    investigation: tuple[Step, ...] = ()
    resolution: tuple[Step, ...] = ()
    escalation: tuple[EscalationRule, ...] = ()

    @property
    def respond_budget(self) -> Budget:
        return self.response_time

    @property
    def restore_budget(self) -> Budget | None:
        """The first escalation threshold: "not restored within 10 minutes" and the like."""
        return next((r.threshold for r in self.escalation if r.threshold is not None), None)


@dataclass(frozen=True)
class Procedure:
    path: tuple[str, ...]  # ("Security Incident Response", "Suspected Breach", "Immediate Actions")
    category: str
    line: int
    window: Budget | None = None
    steps: tuple[Step, ...] = ()

    @property
    def name(self) -> str:
        return " / ".join(self.path[1:])


@dataclass(frozen=True)
class Runbook:
    title: str
    source: str
    alerts: tuple[AlertSection, ...] = ()
    procedures: tuple[Procedure, ...] = field(default=())

    def alert(self, name: str) -> AlertSection:
        for alert in self.alerts:
            if alert.name == name:
                return alert
        raise KeyError(
            f"the runbook has no alert {name!r}; it has: {', '.join(a.name for a in self.alerts)}"
        )

    def procedure(self, *path: str) -> Procedure:
        for proc in self.procedures:
            if proc.path[-len(path) :] == path or proc.path[1 : 1 + len(path)] == path:
                return proc
        raise KeyError(f"the runbook has no procedure {' / '.join(path)!r}")

    def commands(self) -> list[Command]:
        steps = [s for a in self.alerts for s in (*a.investigation, *a.resolution)]
        steps += [s for p in self.procedures for s in p.steps]
        return [c for s in steps for c in s.commands]

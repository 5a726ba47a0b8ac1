"""Game-day plans (``drills/gameday/*.yaml``): scenarios in order, roles, who does each step.

A plan names drills of the catalogue; for each, the role that acknowledges the alert, who does
each runbook step (a person in a role, or automation) and budgets that may only tighten the
runbook's. ``load_plan`` reads the YAML with its node marks, so every error names the file, the
line and the field, and says what was expected::

    drills/gameday/quarterly.yaml:14: scenarios[0].drill: unknown drill 'backend-kiled'
    Hint: drills: backend-killed, backend-hung, ...
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from drillbook.drills import Drill
from drillbook.errors import ConfigError
from drillbook.sla import PROFILES, Budget, Profile

__all__ = ["Assignment", "Plan", "Role", "Scenario", "load_plan"]

_NULL = "tag:yaml.org,2002:null"
_NUMBERS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@dataclass(frozen=True)
class Role:
    """A part people play on the game day (the incident commander, the DBA): who plays it."""

    name: str
    who: str
    description: str = ""


@dataclass(frozen=True)
class Assignment:
    """Who does one runbook step: a person in ``role`` by hand, or automation (``role``, if
    given, watches it)."""

    step: str
    by: Literal["human", "automation"] = "automation"
    role: str | None = None


@dataclass(frozen=True)
class Scenario:
    """One drill of the plan: the briefing read out, who acknowledges, who does each step."""

    drill: Drill
    acknowledge: str  # the role that acknowledges the alert
    steps: tuple[Assignment, ...]  # one per step of the drill, in the drill's order
    budgets: tuple[Budget, ...] = ()  # the plan's own, each at most the runbook's
    briefing: str = ""
    line: int = 0

    def assignment(self, step: str) -> Assignment:
        return next((a for a in self.steps if a.step == step), Assignment(step))

    def roles(self) -> tuple[str, ...]:
        """The roles this scenario involves, the acknowledging one first."""
        found = [self.acknowledge, *(a.role for a in self.steps if a.role)]
        return tuple(dict.fromkeys(found))

    def effective_budgets(self, profile: Profile) -> tuple[Budget, ...]:
        """The runbook's budgets tightened by ``profile``, and by the plan where it is stricter."""
        own = {b.measure: b for b in self.budgets}
        chosen = []
        for runbook in self.drill.budgets:
            tightened = profile.tighten(runbook)
            plan = own.get(runbook.measure)
            chosen.append(
                plan if plan is not None and plan.seconds < tightened.seconds else tightened
            )
        return tuple(chosen)


@dataclass(frozen=True)
class Plan:
    name: str
    scenarios: tuple[Scenario, ...]
    roles: tuple[Role, ...]
    description: str = ""
    profile: str = "gameday"
    source: str = ""

    def role(self, name: str) -> Role:
        return next(r for r in self.roles if r.name == name)

    def people(self) -> dict[str, str]:
        """role -> who plays it."""
        return {r.name: r.who for r in self.roles}


@dataclass
class _Reader:
    """Reads nodes of one file; every complaint names the file, the node's line and the field."""

    path: Path

    def fail(
        self, node: Node | None, where: str, message: str, hint: str | None = None
    ) -> NoReturn:
        line = node.start_mark.line + 1 if node is not None else 1
        raise ConfigError(f"{self.path}:{line}: {where}: {message}", hint=hint)

    def mapping(
        self, node: Node, where: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, tuple[Node, Node]]:
        """The keys of a mapping node with their key and value nodes; unknown or duplicate keys
        and missing required ones are errors."""
        if not isinstance(node, MappingNode):
            wanted = f"with {', '.join(required)}" if required else f"({', '.join(optional)})"
            self.fail(node, where, f"expected a mapping {wanted}, got {_kind(node)}")
        found: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name not in (*required, *optional):
                self.fail(
                    key,
                    where,
                    f"unknown field {name if name is not None else _kind(key)!r}",
                    hint=f"fields here: {', '.join((*required, *optional))}",
                )
            if name in found:
                self.fail(key, f"{where}.{name}", "given twice")
            found[name] = (key, value)
        for name in required:
            if name not in found:
                self.fail(node, where, f"missing field {name!r}")
        return found

    def text(self, node: Node, where: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag == _NULL or not node.value.strip():
            self.fail(node, where, f"expected a non-empty text, got {_kind(node)}")
        return str(node.value).strip()

    def items(self, node: Node, where: str) -> list[Node]:
        if not isinstance(node, SequenceNode) or not node.value:
            self.fail(node, where, f"expected a non-empty list, got {_kind(node)}")
        return list(node.value)

    def seconds(self, node: Node, where: str) -> float:
        value = math.nan
        if isinstance(node, ScalarNode) and node.tag in _NUMBERS:
            try:
                value = float(node.value)
            except ValueError:
                value = math.nan
        if not (math.isfinite(value) and value > 0):
            self.fail(node, where, f"expected a positive number of seconds, got {_kind(node)}")
        return value


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping" if node.value else "an empty mapping"
    if isinstance(node, SequenceNode):
        return "a list" if node.value else "an empty list"
    if isinstance(node, ScalarNode):
        return "nothing" if node.tag == _NULL or node.value == "" else repr(node.value)
    return "nothing"


def load_plan(path: str | Path, drills: Sequence[Drill] | None = None) -> Plan:
    """The plan in ``path``, its drills taken from ``drills`` (default: the Docker catalogue
    with budgets from the project's runbook). Raises :class:`ConfigError` naming the file, line
    and field of the first problem."""
    path = Path(path)
    if drills is None:
        from drillbook.drills import default_runbook
        from drillbook.drills.catalog import docker_drills

        drills = docker_drills(default_runbook())
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such game-day plan", hint="plans: drills/gameday/*.yaml"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the plan: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(f"{path}:{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses (a control character)
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(f"{path}:{line}: not valid YAML: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}:1: not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}:1: not valid as a plan: nested too deeply") from None
    reader = _Reader(path)
    if root is None:
        reader.fail(None, "plan", "the file is empty; expected roles and scenarios")
    top = reader.mapping(root, "plan", ("roles", "scenarios"), ("name", "description", "profile"))
    name = reader.text(top["name"][1], "name") if "name" in top else path.stem
    description = reader.text(top["description"][1], "description") if "description" in top else ""
    profile = "gameday"
    if "profile" in top:
        profile = reader.text(top["profile"][1], "profile")
        if profile not in PROFILES:
            reader.fail(
                top["profile"][1],
                "profile",
                f"unknown profile {profile!r}",
                f"profiles: {', '.join(PROFILES)}",
            )
    roles = _roles(reader, top["roles"][1])
    by_name = {d.name: d for d in drills}
    scenarios = tuple(
        _scenario(reader, node, f"scenarios[{i}]", by_name, roles)
        for i, node in enumerate(reader.items(top["scenarios"][1], "scenarios"))
    )
    return Plan(name, scenarios, roles, description, profile, str(path))


def _roles(reader: _Reader, node: Node) -> tuple[Role, ...]:
    if not isinstance(node, MappingNode) or not node.value:
        reader.fail(
            node,
            "roles",
            f"expected a mapping of role names to who and description, got {_kind(node)}",
        )
    roles: list[Role] = []
    for key, value in node.value:
        role = reader.text(key, "roles")
        where = f"roles.{role}"
        if any(r.name == role for r in roles):
            reader.fail(key, where, "given twice")
        fields = reader.mapping(value, where, ("who",), ("description",))
        who = reader.text(fields["who"][1], f"{where}.who")
        about = (
            reader.text(fields["description"][1], f"{where}.description")
            if "description" in fields
            else ""
        )
        roles.append(Role(role, who, about))
    return tuple(roles)


def _role(reader: _Reader, node: Node, where: str, roles: tuple[Role, ...]) -> str:
    role = reader.text(node, where)
    if not any(r.name == role for r in roles):
        reader.fail(
            node,
            where,
            f"unknown role {role!r}",
            f"the plan's roles: {', '.join(r.name for r in roles)}",
        )
    return role


def _scenario(
    reader: _Reader, node: Node, where: str, drills: dict[str, Drill], roles: tuple[Role, ...]
) -> Scenario:
    fields = reader.mapping(node, where, ("drill", "acknowledge"), ("briefing", "budgets", "steps"))
    drill_node = fields["drill"][1]
    name = reader.text(drill_node, f"{where}.drill")
    drill = drills.get(name)
    if drill is None:
        reader.fail(
            drill_node, f"{where}.drill", f"unknown drill {name!r}", f"drills: {', '.join(drills)}"
        )
    acknowledge = _role(reader, fields["acknowledge"][1], f"{where}.acknowledge", roles)
    briefing = (
        reader.text(fields["briefing"][1], f"{where}.briefing") if "briefing" in fields else ""
    )
    given: dict[str, Assignment] = {}
    if "steps" in fields:
        for i, item in enumerate(reader.items(fields["steps"][1], f"{where}.steps")):
            assigned = _assignment(reader, item, f"{where}.steps[{i}]", drill, roles)
            if assigned.step in given:
                reader.fail(item, f"{where}.steps[{i}]", f"step {assigned.step!r} assigned twice")
            given[assigned.step] = assigned
    steps = tuple(given.get(s.name, Assignment(s.name)) for s in drill.steps)
    budgets = (
        _budgets(reader, fields["budgets"][1], f"{where}.budgets", drill)
        if "budgets" in fields
        else ()
    )
    return Scenario(drill, acknowledge, steps, budgets, briefing, drill_node.start_mark.line + 1)


def _assignment(
    reader: _Reader, node: Node, where: str, drill: Drill, roles: tuple[Role, ...]
) -> Assignment:
    fields = reader.mapping(node, where, ("step", "by"), ("role",))
    step_node = fields["step"][1]
    names = [s.name for s in drill.steps]
    listing = "; ".join(f"{i}: {n}" for i, n in enumerate(names, 1))
    ref = reader.text(step_node, f"{where}.step")
    step = ref if ref in names else None
    if step is None and isinstance(step_node, ScalarNode) and step_node.tag == _NUMBERS[0]:
        number = int(ref) if ref.isdigit() else 0
        step = names[number - 1] if 1 <= number <= len(names) else None
    if step is None:
        reader.fail(
            step_node,
            f"{where}.step",
            f"drill {drill.name!r} has no step {ref!r}",
            f"its steps (by name or number): {listing}",
        )
    by = reader.text(fields["by"][1], f"{where}.by")
    if by not in ("human", "automation"):
        reader.fail(fields["by"][1], f"{where}.by", f"expected human or automation, got {by!r}")
    role = _role(reader, fields["role"][1], f"{where}.role", roles) if "role" in fields else None
    if by == "human" and role is None:
        reader.fail(node, where, "a step done by hand needs the role that does it (role: ...)")
    return Assignment(step, "human" if by == "human" else "automation", role)


def _budgets(reader: _Reader, node: Node, where: str, drill: Drill) -> tuple[Budget, ...]:
    runbook = {b.measure: b for b in drill.budgets}
    fields = reader.mapping(node, where, (), tuple(runbook))
    budgets = []
    for measure, (_, value) in fields.items():
        seconds = reader.seconds(value, f"{where}.{measure}")
        limit = runbook[measure]
        if seconds > limit.seconds:
            reader.fail(
                value,
                f"{where}.{measure}",
                f"{seconds:g}s would loosen the runbook's {limit.seconds:g}s ({limit.source}); "
                "a plan may only tighten a budget",
            )
        line = value.start_mark.line + 1
        source = (
            f"{reader.path.name}:{line} game-day plan (runbook {limit.seconds:g}s: {limit.source})"
        )
        budgets.append(Budget(measure, seconds, source))
    return tuple(budgets)

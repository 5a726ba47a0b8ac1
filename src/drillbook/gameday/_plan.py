"""Game-day plans (``drills/gameday/*.yaml``): scenarios in order, roles, who does each step.

A plan names drills of the catalogue, optionally of one lab backend (``env: docker|kubernetes``);
for each, the role that acknowledges the alert, who does each runbook step (a person in a role,
or automation) and budgets that may only tighten the runbook's. ``load_plan`` reads the YAML
with its node marks, so every error names the file, the line and the field, and says what was
expected::

    drills/gameday/quarterly.yaml:14: scenarios[0].drill: unknown drill 'backend-kiled'
    Hint: drills: backend-killed, backend-hung, ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from yaml.nodes import MappingNode, Node, ScalarNode

from drillbook._yaml import NUMBERS, Reader, kind, read_yaml
from drillbook.drills import Drill
from drillbook.sla import PROFILES, Budget, Profile

__all__ = ["PLAN_ENVS", "Assignment", "Plan", "Role", "Scenario", "load_plan", "plan_env"]

#: the lab backends a plan may name in ``env:``
PLAN_ENVS = ("docker", "kubernetes")


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
    env: str = ""  # the lab backend the plan is for (``env:``); empty: not said

    def role(self, name: str) -> Role:
        return next(r for r in self.roles if r.name == name)

    def people(self) -> dict[str, str]:
        """role -> who plays it."""
        return {r.name: r.who for r in self.roles}


def plan_env(path: str | Path) -> str:
    """The lab backend the plan in ``path`` names (``env:``), empty when it names none; what a
    command uses when no ``--env`` is given. Raises :class:`ConfigError` as :func:`load_plan`."""
    reader, top = _top(Path(path))
    return _env(reader, top)


def load_plan(
    path: str | Path,
    drills: Sequence[Drill] | None = None,
    *,
    env: str = "",
    elsewhere: Mapping[str, Sequence[str]] | None = None,
) -> Plan:
    """The plan in ``path``, its drills taken from ``drills`` (default: the catalogue of the
    plan's env, else the Docker one, with budgets from the project's runbook): those of the lab
    backend ``env``, if named, and ``elsewhere`` the drill names of the other backends, so that
    a plan written for another one says which. Raises :class:`ConfigError` naming the file,
    line and field of the first problem (a plan whose ``env:`` is not ``env`` too)."""
    path = Path(path)
    reader, top = _top(path)
    declared = _env(reader, top)
    if declared and env and declared != env:
        reader.fail(
            top["env"][1],
            "env",
            f"the plan is for env {declared}; expected --env {declared} (or none), got --env {env}",
            f"run it with --env {declared}, or leave --env out: the plan's env is used",
        )
    if drills is None:
        drills = _catalogue_of(env or declared)
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
    catalogue = _Catalogue({d.name: d for d in drills}, env, elsewhere or {})
    scenarios = tuple(
        _scenario(reader, node, f"scenarios[{i}]", catalogue, roles)
        for i, node in enumerate(reader.items(top["scenarios"][1], "scenarios"))
    )
    return Plan(name, scenarios, roles, description, profile, str(path), declared)


def _top(path: Path) -> tuple[Reader, dict[str, tuple[Node, Node]]]:
    """The plan's reader and its top-level fields."""
    root = read_yaml(path, "game-day plan", hint="plans: drills/gameday/*.yaml")
    reader = Reader(path)
    if root is None:
        reader.fail(None, "plan", "the file is empty; expected roles and scenarios")
    optional = ("name", "description", "profile", "env")
    return reader, reader.mapping(root, "plan", ("roles", "scenarios"), optional)


def _env(reader: Reader, top: dict[str, tuple[Node, Node]]) -> str:
    if "env" not in top:
        return ""
    env = reader.text(top["env"][1], "env")
    if env not in PLAN_ENVS:
        reader.fail(top["env"][1], "env", f"expected {' or '.join(PLAN_ENVS)}, got {env!r}")
    return env


def _catalogue_of(env: str) -> Sequence[Drill]:
    """The reference catalogue of ``env`` (docker unless kubernetes), budgets from the runbook."""
    from drillbook.drills import default_runbook

    if env == "kubernetes":
        from drillbook.drills.kubernetes import kubernetes_drills

        return kubernetes_drills(default_runbook())
    from drillbook.drills.catalog import docker_drills

    return docker_drills(default_runbook())


@dataclass(frozen=True)
class _Catalogue:
    """The drills a plan may name: those of the lab backend ``env`` (empty: unnamed), and the
    drill names of the others."""

    drills: dict[str, Drill]
    env: str
    elsewhere: Mapping[str, Sequence[str]]

    def unknown(self, name: str) -> tuple[str, str]:
        """The error and its hint for a drill ``name`` the catalogue does not have."""
        if not self.env:
            return f"unknown drill {name!r}", f"drills: {', '.join(self.drills)}"
        message = f"unknown drill {name!r} on env {self.env}"
        other = next((e for e, names in self.elsewhere.items() if name in names), None)
        if other is not None:  # a plan names one backend's drills: this one is for another
            message += f": it is a drill of env {other} (run this plan with --env {other})"
        return message, f"the drills of env {self.env}: {', '.join(self.drills)}"


def _roles(reader: Reader, node: Node) -> tuple[Role, ...]:
    if not isinstance(node, MappingNode) or not node.value:
        reader.fail(
            node,
            "roles",
            f"expected a mapping of role names to who and description, got {kind(node)}",
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


def _role(reader: Reader, node: Node, where: str, roles: tuple[Role, ...]) -> str:
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
    reader: Reader, node: Node, where: str, catalogue: _Catalogue, roles: tuple[Role, ...]
) -> Scenario:
    fields = reader.mapping(node, where, ("drill", "acknowledge"), ("briefing", "budgets", "steps"))
    drill_node = fields["drill"][1]
    name = reader.text(drill_node, f"{where}.drill")
    drill = catalogue.drills.get(name)
    if drill is None:
        reader.fail(drill_node, f"{where}.drill", *catalogue.unknown(name))
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
    reader: Reader, node: Node, where: str, drill: Drill, roles: tuple[Role, ...]
) -> Assignment:
    fields = reader.mapping(node, where, ("step", "by"), ("role",))
    step_node = fields["step"][1]
    names = [s.name for s in drill.steps]
    listing = "; ".join(f"{i}: {n}" for i, n in enumerate(names, 1))
    ref = reader.text(step_node, f"{where}.step")
    step = ref if ref in names else None
    if step is None and isinstance(step_node, ScalarNode) and step_node.tag == NUMBERS[0]:
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


def _budgets(reader: Reader, node: Node, where: str, drill: Drill) -> tuple[Budget, ...]:
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

"""One drill file: fault, probes, steps, budgets and invariants, each checked where written."""

from __future__ import annotations

import inspect
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from drillbook._yaml import NULL, NUMBERS, Reader, kind, line_of, to_python
from drillbook.drills import budgets_for
from drillbook.drills._budgets import stage_name
from drillbook.environments.docker import DockerPlatform
from drillbook.errors import ConfigError
from drillbook.faults import FAULTS
from drillbook.probes import PROBES
from drillbook.project._model import VERBS, DrillSpec, InvariantSpec, RoleMap, StepSpec
from drillbook.registry import Registry
from drillbook.runbook import Procedure, Runbook
from drillbook.sla import MEASURES, WINDOW, Budget

__all__ = ["Context", "load_drill"]

_STR = "tag:yaml.org,2002:str"
_BINDINGS = (*VERBS, "run", "kubectl", "todo")


@dataclass
class Context:
    """What every drill file is checked against, and the TODOs found so far."""

    runbook: Runbook
    roles: RoleMap
    services: tuple[str, ...]
    todos: list[str] = field(default_factory=list)

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.roles.roles, *self.services)))


def is_todo(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _STR and node.value.startswith("TODO")


@dataclass
class _File:
    reader: Reader
    context: Context

    def todo(self, node: Node, where: str) -> None:
        text = str(node.value).strip() if isinstance(node, ScalarNode) else "TODO"
        self.context.todos.append(f"{self.reader.path}:{line_of(node)}: {where}: {text}")

    def service(self, node: Node, where: str) -> str:
        name = self.reader.text(node, where)
        if name not in self.context.known:
            self.reader.fail(
                node,
                where,
                f"unknown service {name!r}",
                hint=f"roles and lab services: {', '.join(self.context.known) or 'none'}",
            )
        return name

    def params(self, node: Node, where: str) -> dict[str, Any]:
        """A mapping of parameters (nothing: none); a ``service`` among them must be known."""
        if isinstance(node, ScalarNode) and node.tag == NULL:
            return {}
        if not isinstance(node, MappingNode):
            self.reader.fail(node, where, f"expected a mapping of parameters, got {kind(node)}")
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "service":
                self.service(value, f"{where}.service")
        value = to_python(node, self.reader.path)
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            self.reader.fail(node, where, "expected parameter names as texts")
        return value

    def named(self, node: Node, where: str) -> tuple[str, Node | None, str]:
        """``NAME`` or ``{NAME: {params}}``: the name, the parameters' node, the field path."""
        if isinstance(node, ScalarNode):
            return self.reader.text(node, where), None, where
        if not isinstance(node, MappingNode) or len(node.value) != 1:
            self.reader.fail(
                node, where, f"expected NAME or {{NAME: {{parameters}}}}, got {kind(node)}"
            )
        key, value = node.value[0]
        name = self.reader.text(key, where)
        return name, value, f"{where}.{name}"

    def create(self, registry: Registry[Any], node: Node, where: str) -> tuple[str, dict[str, Any]]:
        """A registry name with parameters its class accepts (built once to check them)."""
        name, params_node, at = self.named(node, where)
        if name not in registry:
            self.reader.fail(
                node,
                where,
                f"unknown {registry.kind} {name!r}",
                hint=f"known {registry.kind}s: {', '.join(registry.names())}",
            )
        params = self.params(params_node, at) if params_node is not None else {}
        try:
            registry.create(name, params)
        except ConfigError as exc:
            detail = exc.message.removeprefix(f"{registry.kind} {name}: ")
            self.reader.fail(params_node or node, at, detail, hint=exc.hint)
        return name, params


def load_drill(path: Path, context: Context) -> DrillSpec:
    """The drill in ``path``, checked against the project; TODOs go to ``context.todos``."""
    from drillbook.project._load import read_yaml

    node = read_yaml(path, "drill file")
    reader = Reader(path)
    if node is None:
        reader.fail(
            None, "drill", "the file is empty; expected name, alert or procedure, fault, steps"
        )
    top = reader.mapping(
        node,
        "drill",
        ("name", "fault", "steps"),
        ("alert", "procedure", "description", "probes", "budgets", "invariants"),
    )
    f = _File(reader, context)
    name = reader.text(top["name"][1], "name")
    if ("alert" in top) == ("procedure" in top):
        reader.fail(
            node,
            "drill",
            "expected exactly one of alert: NAME or procedure: NAME "
            "(the runbook section it drills)",
        )
    runbook_budgets, stages = _section(f, top)
    alert = reader.text(top["alert"][1], "alert") if "alert" in top else ""
    procedure = reader.text(top["procedure"][1], "procedure") if "procedure" in top else ""
    fault, fault_params = "", dict[str, Any]()
    if is_todo(top["fault"][1]):
        f.todo(top["fault"][1], "fault")
    else:
        fault, fault_params = f.create(FAULTS, top["fault"][1], "fault")
    probes: list[tuple[str, Mapping[str, Any]]] = []
    if "probes" in top and is_todo(top["probes"][1]):
        f.todo(top["probes"][1], "probes")
    elif "probes" in top:
        for i, item in enumerate(reader.items(top["probes"][1], "probes")):
            probes.append(f.create(PROBES, item, f"probes[{i}]"))
    elif fault not in ("", "scheduled"):
        reader.fail(
            node,
            "drill",
            "missing field 'probes' "
            "(what healthy means; a planned drill, fault scheduled, needs none)",
        )
    default_stage = next(iter(stages)) if len(stages) == 1 else ""
    steps = tuple(
        _step(f, item, f"steps[{i}]", stages, default_stage)
        for i, item in enumerate(reader.items(top["steps"][1], "steps"))
    )
    budgets = _budgets(f, top, runbook_budgets, steps)
    invariants: tuple[InvariantSpec, ...] = ()
    if "invariants" in top:
        invariants = tuple(
            _invariant(f, item, f"invariants[{i}]")
            for i, item in enumerate(reader.items(top["invariants"][1], "invariants"))
        )
    description = reader.text(top["description"][1], "description") if "description" in top else ""
    return DrillSpec(
        name,
        f"{path}:{line_of(node)}",
        alert,
        procedure,
        fault,
        fault_params,
        tuple(probes),
        steps,
        budgets,
        invariants,
        description,
    )


def _section(
    f: _File, top: dict[str, tuple[Node, Node]]
) -> tuple[tuple[Budget, ...], dict[str, Procedure]]:
    """The runbook's budgets for the drill's alert or procedure, and its stages (procedures)."""
    runbook, reader = f.context.runbook, f.reader
    if "alert" in top:
        node = top["alert"][1]
        alert = reader.text(node, "alert")
        if alert not in {a.name for a in runbook.alerts}:
            reader.fail(
                node,
                "alert",
                f"the runbook has no alert {alert!r}",
                hint=f"its alerts: {', '.join(a.name for a in runbook.alerts) or 'none'}",
            )
        return budgets_for(runbook, alert), {}
    node = top["procedure"][1]
    wanted = reader.text(node, "procedure")
    found = find_procedures(runbook, wanted)
    if not found:
        reader.fail(
            node,
            "procedure",
            f"the runbook has no procedure {wanted!r}",
            hint=f"its procedures: {'; '.join(p.name for p in runbook.procedures) or 'none'}",
        )
    where = Path(runbook.source).name
    budgets = tuple(
        Budget(
            f"{WINDOW}{stage_name(p.path[-1])}",
            p.window.seconds,
            f"{where}:{p.window.line} {p.name}",
        )
        for p in found
        if p.window is not None and p.window.kind == "window"
    )
    return budgets, {stage_name(p.path[-1]): p for p in found}


def find_procedures(runbook: Runbook, wanted: str) -> list[Procedure]:
    """The procedures ``wanted`` names: one (``High CPU Usage / Resolution``, the window's
    ``(< 5 minutes)`` optional) or a group of stages (``Suspected Breach``)."""
    parts = tuple(stage_name(p.strip()) for p in wanted.split("/"))
    found = []
    for proc in runbook.procedures:
        names = tuple(stage_name(p) for p in proc.path)
        if names == parts or names[1:] == parts or names[1 : 1 + len(parts)] == parts:
            found.append(proc)
    return found


def _step(
    f: _File, node: Node, where: str, stages: Mapping[str, Procedure], default_stage: str
) -> StepSpec:
    reader = f.reader
    fields = reader.mapping(node, where, ("name",), (*_BINDINGS, "runbook", "stage"))
    name = reader.text(fields["name"][1], f"{where}.name")
    bound = [b for b in _BINDINGS if b in fields]
    if not bound:
        reader.fail(
            node,
            where,
            f"step {name!r} is bound to nothing",
            hint=f"bind it to one of: a verb ({', '.join(VERBS)}), "
            "run: {service, command}, kubectl: COMMAND",
        )
    if len(bound) > 1:
        reader.fail(
            fields[bound[1]][0],
            where,
            f"step {name!r} is bound to both {bound[0]} and {bound[1]}; expected exactly one",
        )
    binding = bound[0]
    value = fields[binding][1]
    at = f"{where}.{binding}"
    runbook = ""
    if "runbook" in fields:
        rnode = fields["runbook"][1]
        if not (
            isinstance(rnode, ScalarNode)
            and rnode.tag == NUMBERS[0]
            and rnode.value.isdigit()
            and int(rnode.value) > 0
        ):
            reader.fail(
                rnode,
                f"{where}.runbook",
                f"expected the runbook line it implements, got {kind(rnode)}",
            )
        runbook = f"{Path(f.context.runbook.source).name}:{int(rnode.value)}"
    stage = default_stage
    if "stage" in fields:
        stage = stage_name(reader.text(fields["stage"][1], f"{where}.stage"))
        if stage not in stages:
            reader.fail(
                fields["stage"][1],
                f"{where}.stage",
                f"unknown stage {stage!r}",
                hint="the procedure's stages: "
                f"{', '.join(stages) or 'none (not a procedure drill)'}",
            )
    params: dict[str, Any]
    if binding == "todo":
        f.todo(value, at)
        params = {"todo": reader.text(value, at)}
    elif binding == "run":
        run = reader.mapping(value, at, ("service", "command"))
        params = {
            "service": f.service(run["service"][1], f"{at}.service"),
            "command": reader.text(run["command"][1], f"{at}.command"),
        }
    elif binding == "kubectl":
        command = reader.text(value, at)
        try:
            argv = shlex.split(command.removeprefix("kubectl "))
        except ValueError as exc:
            reader.fail(value, at, f"not a command line: {exc}")
        params = {"command": command, "argv": tuple(argv)}
    else:
        params = f.params(value, at)
        _check_verb(f, value, at, binding, params)
    return StepSpec(name, binding, params, line_of(node), runbook, stage)


def _check_verb(f: _File, node: Node, where: str, verb: str, params: dict[str, Any]) -> None:
    signature = inspect.signature(getattr(DockerPlatform, verb))
    accepted = [p for p in signature.parameters if p != "self"]
    try:
        signature.bind(None, **params)
    except TypeError as exc:
        f.reader.fail(node, where, f"{verb}: {exc}", hint=f"its parameters: {', '.join(accepted)}")


def _budgets(
    f: _File,
    top: dict[str, tuple[Node, Node]],
    runbook: tuple[Budget, ...],
    steps: tuple[StepSpec, ...],
) -> tuple[Budget, ...]:
    reader = f.reader
    by_measure = {b.measure: b for b in runbook}
    given: dict[str, Budget] = {}
    todo = False
    if "budgets" in top:
        node = top["budgets"][1]
        if not isinstance(node, MappingNode) or not node.value:
            reader.fail(
                node, "budgets", f"expected a mapping of measures to seconds, got {kind(node)}"
            )
        for key, value in node.value:
            measure = reader.text(key, "budgets")
            where = f"budgets.{measure}"
            if measure not in MEASURES and not (
                measure.startswith(WINDOW) and len(measure) > len(WINDOW)
            ):
                reader.fail(
                    key,
                    where,
                    f"unknown measure {measure!r}",
                    hint=f"measures: {', '.join(MEASURES)}, or window:<stage>",
                )
            if measure in given:
                reader.fail(key, where, "given twice")
            if is_todo(value):
                f.todo(value, where)
                todo = True
                continue
            seconds = reader.seconds(value, where)
            line = line_of(value)
            limit = by_measure.get(measure)
            if limit is not None and seconds > limit.seconds:
                reader.fail(
                    value,
                    where,
                    f"{seconds:g}s would loosen the runbook's {limit.seconds:g}s "
                    f"({limit.source}); a drill may only tighten a budget",
                )
            source = f"{reader.path.name}:{line} drill file" + (
                f" (runbook {limit.seconds:g}s: {limit.source})"
                if limit
                else " (the runbook states none)"
            )
            given[measure] = Budget(measure, seconds, source)
    budgets = [given.pop(b.measure, b) for b in runbook] + list(given.values())
    if not budgets and not todo:
        reader.fail(
            top.get("procedure", top.get("alert", (None, None)))[1],
            "budgets",
            "the runbook states no time for this section; "
            "expected budgets: {time_to_recover: SECONDS}",
        )
    staged = {s.stage for s in steps}
    for budget in budgets:
        stage = budget.measure.removeprefix(WINDOW)
        if budget.measure.startswith(WINDOW) and stage not in staged:
            reader.fail(
                top.get("budgets", top.get("procedure", (None, None)))[1],
                f"budgets.{budget.measure}",
                f"no step is in stage {stage!r}; give a step stage: {stage}",
            )
    return tuple(budgets)


def _invariant(f: _File, node: Node, where: str) -> InvariantSpec:
    reader = f.reader
    fields = reader.mapping(node, where, (), ("name", "sql", "http"))
    if ("sql" in fields) == ("http" in fields):
        reader.fail(
            node,
            where,
            "expected exactly one of sql: QUERY (must return no rows) "
            "or http: {service, port, path, expect}",
        )
    line = line_of(node)
    if "sql" in fields:
        sql = reader.text(fields["sql"][1], f"{where}.sql")
        name = reader.text(fields["name"][1], f"{where}.name") if "name" in fields else sql
        return InvariantSpec(name, "sql", sql=sql, line=line)
    at = f"{where}.http"
    http = reader.mapping(fields["http"][1], at, ("service", "port"), ("path", "expect"))
    service = f.service(http["service"][1], f"{at}.service")
    port = reader.text(http["port"][1], f"{at}.port")
    path = reader.text(http["path"][1], f"{at}.path") if "path" in http else "/"
    if not path.startswith("/"):
        reader.fail(http["path"][1], f"{at}.path", f"expected a path like /health, got {path!r}")
    expect = 200
    if "expect" in http:
        enode = http["expect"][1]
        ok = isinstance(enode, ScalarNode) and enode.tag == NUMBERS[0] and enode.value.isdigit()
        expect = int(enode.value) if ok else 0
        if not 100 <= expect <= 599:
            reader.fail(enode, f"{at}.expect", f"expected an HTTP status, got {kind(enode)}")
    name = (
        reader.text(fields["name"][1], f"{where}.name")
        if "name" in fields
        else f"GET {service}:{port}{path} == {expect}"
    )
    return InvariantSpec(
        name, "http", service=service, port=port, path=path, expect=expect, line=line
    )

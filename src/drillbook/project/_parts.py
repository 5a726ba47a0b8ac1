"""The parts of a drill file: what they are checked against, steps and invariants."""

from __future__ import annotations

import inspect
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from drillbook._yaml import NULL, NUMBERS, Reader, kind, line_of, to_python
from drillbook.drills._budgets import stage_name
from drillbook.environments.docker import DockerPlatform
from drillbook.errors import ConfigError
from drillbook.project._model import (
    KUBERNETES_VERBS,
    SERVICE_FIELDS,
    VERBS,
    InvariantSpec,
    RoleMap,
    StepSpec,
)
from drillbook.registry import Registry
from drillbook.runbook import Procedure, Runbook

__all__ = ["Context", "FileChecks", "invariant", "is_todo", "step"]

_STR = "tag:yaml.org,2002:str"


@dataclass
class Context:
    """What every drill file is checked against, and the TODOs found so far."""

    runbook: Runbook
    roles: RoleMap
    services: tuple[str, ...]
    envs: tuple[str, ...] = ("docker",)  # the lab backends the project has, the default first
    todos: list[str] = field(default_factory=list)

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.roles.roles, *self.services)))


def is_todo(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _STR and node.value.startswith("TODO")


@dataclass
class FileChecks:
    reader: Reader
    context: Context
    env: str = "docker"  # the drill's lab backend: what its verbs and steps are checked against

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
            if isinstance(key, ScalarNode) and key.value in SERVICE_FIELDS:
                self.service(value, f"{where}.{key.value}")
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


def step(
    f: FileChecks, node: Node, where: str, stages: Mapping[str, Procedure], default_stage: str
) -> StepSpec:
    reader = f.reader
    verbs = KUBERNETES_VERBS if f.env == "kubernetes" else VERBS
    bindings = (*verbs, "run", "kubectl", "todo")
    fields = reader.mapping(node, where, ("name",), (*bindings, "runbook", "stage"))
    name = reader.text(fields["name"][1], f"{where}.name")
    bound = [b for b in bindings if b in fields]
    if not bound:
        reader.fail(
            node,
            where,
            f"step {name!r} is bound to nothing",
            hint=f"bind it to one of: a {f.env} verb ({', '.join(verbs)}), "
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
        if f.env == "kubernetes":  # run through the API: what it cannot run is refused here
            from drillbook.environments.kubernetes import kubectl_step

            full = command if command.startswith("kubectl ") else f"kubectl {command}"
            try:
                kubectl_step(full)
            except ValueError as exc:
                reader.fail(value, at, str(exc))
            params["command"] = full
    else:
        params = f.params(value, at)
        _check_verb(f, value, at, binding, params)
    return StepSpec(name, binding, params, line_of(node), runbook, stage)


def _check_verb(f: FileChecks, node: Node, where: str, verb: str, params: dict[str, Any]) -> None:
    from drillbook.environments.kubernetes import KubernetesPlatform

    platform = KubernetesPlatform if f.env == "kubernetes" else DockerPlatform
    signature = inspect.signature(getattr(platform, verb))
    accepted = [p for p in signature.parameters if p != "self"]
    try:
        signature.bind(None, **params)
    except TypeError as exc:
        f.reader.fail(node, where, f"{verb}: {exc}", hint=f"its parameters: {', '.join(accepted)}")


def invariant(f: FileChecks, node: Node, where: str) -> InvariantSpec:
    reader = f.reader
    fields = reader.mapping(node, where, (), ("name", "sql", "database", "http"))
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
        database = (  # the PostgreSQL service: the runbook's postgres role unless named
            f.service(fields["database"][1], f"{where}.database") if "database" in fields else ""
        )
        return InvariantSpec(name, "sql", sql=sql, service=database, line=line)
    if "database" in fields:
        reader.fail(fields["database"][0], f"{where}.database", "database: goes with sql:")
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

"""One drill file: fault, probes, steps, budgets and invariants, each checked where written."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node

from drillbook._yaml import Reader, kind, line_of, read_yaml
from drillbook.drills import budgets_for
from drillbook.drills._budgets import stage_name
from drillbook.faults import FAULTS
from drillbook.faults.kubernetes import KUBERNETES_FAULTS
from drillbook.probes import PROBES
from drillbook.probes.kubernetes import KUBERNETES_PROBES
from drillbook.project._model import ENVS, DrillSpec, InvariantSpec, StepSpec
from drillbook.project._parts import Context, FileChecks, invariant, is_todo, step
from drillbook.runbook import Procedure, Runbook
from drillbook.sla import MEASURES, WINDOW, Budget

__all__ = ["find_procedures", "load_drill"]


def load_drill(path: Path, context: Context) -> DrillSpec:
    """The drill in ``path``, checked against the project; TODOs go to ``context.todos``."""
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
        ("alert", "procedure", "description", "probes", "budgets", "invariants", "env"),
    )
    env = _env(reader, top, context)
    f = FileChecks(reader, context, env)
    faults, probe_registry = (
        (KUBERNETES_FAULTS, KUBERNETES_PROBES) if env == "kubernetes" else (FAULTS, PROBES)
    )
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
        fault, fault_params = f.create(faults, top["fault"][1], "fault")
    probes: list[tuple[str, Mapping[str, Any]]] = []
    if "probes" in top and is_todo(top["probes"][1]):
        f.todo(top["probes"][1], "probes")
    elif "probes" in top:
        for i, item in enumerate(reader.items(top["probes"][1], "probes")):
            probes.append(f.create(probe_registry, item, f"probes[{i}]"))
    elif fault not in ("", "scheduled"):
        reader.fail(
            node,
            "drill",
            "missing field 'probes' "
            "(what healthy means; a planned drill, fault scheduled, needs none)",
        )
    default_stage = next(iter(stages)) if len(stages) == 1 else ""
    steps = tuple(
        step(f, item, f"steps[{i}]", stages, default_stage)
        for i, item in enumerate(reader.items(top["steps"][1], "steps"))
    )
    budgets = _budgets(f, top, runbook_budgets, steps)
    invariants: tuple[InvariantSpec, ...] = ()
    if "invariants" in top:
        invariants = tuple(
            invariant(f, item, f"invariants[{i}]")
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
        env=env,
    )


def _env(reader: Reader, top: dict[str, tuple[Node, Node]], context: Context) -> str:
    """The drill's lab backend: ``env:``, else the project's first (docker when it has a
    Compose file); one the project's lab does not give is an error at its line."""
    if "env" not in top:
        return context.envs[0] if context.envs else "docker"
    node = top["env"][1]
    env = reader.text(node, "env")
    if env not in ENVS:
        reader.fail(node, "env", f"expected one of {', '.join(ENVS)}, got {env!r}")
    if env not in context.envs:
        needs = "lab.compose: FILE" if env == "docker" else "lab.manifests: [FILE, ...]"
        reader.fail(node, "env", f"the project's lab has no {env} backend; it needs {needs}")
    return env


def _section(
    f: FileChecks, top: dict[str, tuple[Node, Node]]
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


def _budgets(
    f: FileChecks,
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

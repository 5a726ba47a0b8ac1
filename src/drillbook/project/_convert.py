"""A DrillSpec as the engine's :class:`Drill`, every service name through the project's roles."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drillbook.drills import Drill, Invariant, Step
from drillbook.environments.docker import DockerPlatform
from drillbook.errors import ConfigError
from drillbook.faults import FAULTS
from drillbook.probes import PROBES
from drillbook.project._model import DrillSpec, InvariantSpec, Project, RoleMap, StepSpec
from drillbook.waiting import Check

__all__ = ["to_drill"]


def _resolved(params: Mapping[str, Any], roles: RoleMap) -> dict[str, Any]:
    out = dict(params)
    if isinstance(out.get("service"), str):
        out["service"] = roles.service(out["service"])
    return out


def _action(step: StepSpec, roles: RoleMap) -> Callable[[DockerPlatform], object]:
    params = _resolved(step.params, roles)
    if step.kind == "run":
        argv = ("sh", "-c", str(params["command"]))
        return lambda p: p.exec(str(params["service"]), argv)
    verb = step.kind
    return lambda p: getattr(p, verb)(**params)


def _check(inv: InvariantSpec, roles: RoleMap) -> Callable[[DockerPlatform], Check]:
    if inv.kind == "sql":
        database = roles.service(inv.service or "postgres")

        def sql(p: DockerPlatform) -> Check:
            rows = p.sql(inv.sql, service=database)
            return Check(
                not rows, f"{len(rows)} row(s)" + (f", first: {rows[0]!r}" if rows else "")
            )

        return sql
    service = roles.service(inv.service)

    def http(p: DockerPlatform) -> Check:
        status, _ = p.http_call(service, inv.port, inv.path)
        return Check(status == inv.expect, f"GET {inv.path} -> {status}")

    return http


def to_drill(spec: DrillSpec, project: Project) -> Drill:
    """The engine's Drill for ``spec``. Raises :class:`ConfigError` for what needs the next
    slice: a Python drill (imported by module path), a ``kubectl:`` step (the Kubernetes
    lab) and a step still ``todo``."""
    if spec.python:
        raise ConfigError(
            f"{spec.source}: {spec.python} is a Python drill: drillbook.project.project_drills "
            "imports it"
        )
    if not spec.fault:
        raise ConfigError(f"{spec.source}: drill {spec.name!r}: its fault is still a TODO")
    roles = project.roles
    steps = []
    for step in spec.steps:
        if step.kind in ("kubectl", "todo"):
            raise ConfigError(
                f"{spec.source.rsplit(':', 1)[0]}:{step.line}: step {step.name!r}: "
                f"a {step.kind} step does not run on the Docker lab yet"
            )
        steps.append(Step(step.name, _action(step, roles), step.runbook, step.stage))
    services = {roles.service(s) for s in _services(spec)}
    return Drill(
        spec.name,
        spec.alert or spec.procedure,
        FAULTS.create(spec.fault, _resolved(spec.fault_params, roles)),
        tuple(PROBES.create(name, _resolved(params, roles)) for name, params in spec.probes),
        tuple(steps),
        spec.budgets,
        tuple(Invariant(i.name, _check(i, roles)) for i in spec.invariants),
        spec.description,
        services=tuple(sorted(services)),
        planned=spec.planned,
    )


def _services(spec: DrillSpec) -> list[str]:
    found = [spec.fault_params.get("service")]
    found += [params.get("service") for _, params in spec.probes]
    found += [s.params.get("service") for s in spec.steps]
    found += [i.service for i in spec.invariants if i.kind == "http"]
    return [s for s in found if isinstance(s, str) and s]

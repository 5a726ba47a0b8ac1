"""A DrillSpec as the engine's :class:`Drill`, every service name through the project's roles."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drillbook.drills import Drill, Invariant, Step
from drillbook.environments.docker import DockerPlatform
from drillbook.errors import ConfigError
from drillbook.faults import FAULTS
from drillbook.faults.kubernetes import KUBERNETES_FAULTS
from drillbook.probes import PROBES
from drillbook.probes.kubernetes import KUBERNETES_PROBES
from drillbook.project._model import (
    SERVICE_FIELDS,
    DrillSpec,
    InvariantSpec,
    Project,
    RoleMap,
    StepSpec,
)
from drillbook.waiting import Check

__all__ = ["to_drill"]


def _resolved(params: Mapping[str, Any], roles: RoleMap) -> dict[str, Any]:
    out = dict(params)
    for key in SERVICE_FIELDS:  # a runbook role names its lab service
        if isinstance(out.get(key), str):
            out[key] = roles.service(out[key])
    return out


def _action(step: StepSpec, roles: RoleMap) -> Callable[[Any], object]:
    params = _resolved(step.params, roles)
    if step.kind == "run":
        argv = ("sh", "-c", str(params["command"]))
        return lambda p: p.exec(str(params["service"]), argv)
    if step.kind == "kubectl":
        from drillbook.environments.kubernetes import kubectl_step

        return kubectl_step(str(params["command"]))
    verb = step.kind
    return lambda p: getattr(p, verb)(**params)


def _check(inv: InvariantSpec, roles: RoleMap, env: str) -> Callable[[Any], Check]:
    if env == "kubernetes":
        return _kubernetes_check(inv, roles)
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


def _kubernetes_check(inv: InvariantSpec, roles: RoleMap) -> Callable[[Any], Check]:
    """On the Kubernetes lab: SQL through the platform's ``sql`` and HTTP through a pod, which
    ``KubernetesPlatform`` cannot do yet (its nodes are simulated): both raise NeedsRealNode,
    which the runner records as skipped, never as held."""
    from drillbook.environments.kubernetes import NeedsRealNode

    if inv.kind == "sql":
        database = roles.service(inv.service or "postgres")

        def sql(p: Any) -> Check:
            rows = p.sql(inv.sql)
            return Check(not rows, f"{len(rows)} row(s) in {database}")

        return sql
    service = roles.service(inv.service)

    def http(p: Any) -> Check:
        raise NeedsRealNode(f"GET {service}:{inv.port}{inv.path}: an HTTP check needs a pod")

    return http


def to_drill(spec: DrillSpec, project: Project) -> Drill:
    """The engine's Drill for ``spec``, on its ``env``'s lab (faults, probes and verbs of the
    Docker or the Kubernetes registries). Raises :class:`ConfigError` for a Python drill
    (imported by module path), a ``kubectl:`` step of a Docker drill and a step still
    ``todo``."""
    if spec.python:
        raise ConfigError(
            f"{spec.source}: {spec.python} is a Python drill: drillbook.project.project_drills "
            "imports it"
        )
    if not spec.fault:
        raise ConfigError(f"{spec.source}: drill {spec.name!r}: its fault is still a TODO")
    roles = project.roles
    kubernetes = spec.env == "kubernetes"
    steps = []
    for step in spec.steps:
        if step.kind == "todo" or (step.kind == "kubectl" and not kubernetes):
            what = (
                "a todo step is not bound yet"
                if step.kind == "todo"
                else "a kubectl step runs on the Kubernetes lab: give the drill env: "
                "kubernetes (the project's lab.manifests)"
            )
            raise ConfigError(
                f"{spec.source.rsplit(':', 1)[0]}:{step.line}: step {step.name!r}: {what}"
            )
        steps.append(Step(step.name, _action(step, roles), step.runbook, step.stage))
    services = {roles.service(s) for s in _services(spec)}
    faults, probes = (KUBERNETES_FAULTS, KUBERNETES_PROBES) if kubernetes else (FAULTS, PROBES)
    return Drill(
        spec.name,
        spec.alert or spec.procedure,
        faults.create(spec.fault, _resolved(spec.fault_params, roles)),
        tuple(probes.create(name, _resolved(params, roles)) for name, params in spec.probes),
        tuple(steps),
        spec.budgets,
        tuple(Invariant(i.name, _check(i, roles, spec.env)) for i in spec.invariants),
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

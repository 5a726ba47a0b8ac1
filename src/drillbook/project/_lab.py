"""A loaded project as what the commands run: its Docker lab's settings and its drills."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from drillbook.drills import Drill
from drillbook.environments.docker import LabSettings
from drillbook.environments.kubernetes import KubernetesLab
from drillbook.environments.monitoring import ScrapeTarget, monitoring_for
from drillbook.errors import ConfigError
from drillbook.project._convert import to_drill
from drillbook.project._model import DrillSpec, Project

__all__ = ["kubernetes_lab", "lab_settings", "project_drills"]


def lab_settings(project: Project, name: str = "drillbook", **settings: Any) -> LabSettings:
    """The Docker lab of ``project``: its Compose file's services under lab ``name`` (bind
    mounts and build contexts relative to the Compose file), or the reference stack for
    ``lab: {builtin: trading-bot}``; with ``alert_rules:`` and ``monitoring:`` targets, the
    detection pipeline too (responder, Alertmanager, Prometheus evaluating the project's
    rules). ConfigError for a project whose lab is manifests only."""
    if project.lab.builtin:
        return LabSettings(name=name, **settings)
    if project.lab.compose is None:
        raise ConfigError(
            f"{project.root}/drillbook.yaml: lab: project {project.name!r} has Kubernetes "
            "manifests and no Compose file, so it has no Docker lab",
            hint="add lab.compose: FILE, or run it on Kubernetes (--env kubernetes)",
        )
    catalog = project.services
    if project.alert_rules is not None and project.monitoring:
        targets = [ScrapeTarget(s, f"{s}:{port}", path) for s, port, path in project.monitoring]
        catalog += monitoring_for(project.alert_rules, targets)
    return LabSettings(
        name=name,
        catalog=catalog,
        project_root=project.lab.compose.parent,
        **settings,
    )


def kubernetes_lab(
    project: Project,
    kubeconfig: str | Path | None = None,
    context: str | None = None,
    *,
    project_context: bool = True,
) -> KubernetesLab:
    """The Kubernetes lab of ``project``: its manifests applied in their Namespace (else one
    named after the project) of ``context`` (else the project's ``lab.context``, else the
    kubeconfig's current one; not with ``project_context=False``: a control plane drillbook
    started for the run); only lab contexts are accepted (``KubernetesLab``). The reference
    stack (``builtin``) is ``fixtures/k8s``. ConfigError without manifests."""
    if project.lab.builtin:
        return KubernetesLab(kubeconfig, context)
    if not project.lab.manifests:
        raise ConfigError(
            f"{project.root}/drillbook.yaml: lab: project {project.name!r} has a Compose file "
            "and no Kubernetes manifests, so it has no Kubernetes lab",
            hint="add lab.manifests: [FILE, ...], or run it on Docker (--env docker)",
        )
    namespace = project.lab.namespace or re.sub(r"[^a-z0-9-]", "-", project.name.lower())[:63]
    return KubernetesLab(
        kubeconfig,
        context or (project.lab.context if project_context else None),
        namespace=namespace.strip("-") or "drillbook-project",
        manifests=project.lab.manifests,
    )


def project_drills(project: Project, env: str = "docker") -> list[Drill]:
    """Every drill of ``project`` for the ``env`` backend, in file order: data drills (their
    ``env:``, by default the project's first backend) as :func:`to_drill` builds them, Python
    drills imported by ``module:function`` (the project directory first on the import path)
    and called with the project's runbook; the function returns one Drill or several."""
    drills: list[Drill] = []
    for spec in project.drills:
        if spec.env != env:
            continue
        drills += _python_drills(spec, project) if spec.python else [to_drill(spec, project)]
    names = [d.name for d in drills]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"{project.root}/drillbook.yaml: drills: the name(s) {', '.join(twice)} come "
            "from more than one entry",
            hint="each drill needs its own name (a data drill's name:, a Python drill's Drill)",
        )
    return drills


def _python_drills(spec: DrillSpec, project: Project) -> list[Drill]:
    module_name, _, function = spec.python.partition(":")
    root = str(project.root.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an ImportError or an error in the user's module
        raise ConfigError(
            f"{spec.source}: python: cannot import {module_name}: {type(exc).__name__}: {exc}",
            hint=f"a module under {project.root} or installed in drillbook's environment",
        ) from None
    factory = getattr(module, function, None)
    if not callable(factory):
        raise ConfigError(f"{spec.source}: python: {module_name} has no function {function!r}")
    made = factory(project.runbook)
    found = [made] if isinstance(made, Drill) else list(made) if isinstance(made, Iterable) else []
    if not found or not all(isinstance(d, Drill) for d in found):
        raise ConfigError(
            f"{spec.source}: python: {spec.python}(runbook) returned {type(made).__name__}; "
            "expected a drillbook.drills.Drill or a list of them"
        )
    return found

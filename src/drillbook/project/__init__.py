"""Drill projects: the lab, the runbook and the drills of *your* system, as files (issue #18).

A project is a directory with one ``drillbook.yaml``; nothing of drillbook's own reference stack
(``environments/services``, ``drills/catalog*``) is needed or imported (an import-linter
contract). The nouns, where they live::

    Project        _model.py   drillbook.yaml: name, runbook (parsed), lab, roles, health,
                               secrets, alert rules, drills; ``todos`` left by ``init``
    LabSource      _model.py   the lab: a Compose file (its service names) and/or Kubernetes
                               manifests (their workload names) with a kube context
    RoleMap        _model.py   runbook role -> lab service, where names differ
                               (the runbook says ``backend``, Compose says ``api``)
    DrillSpec      _model.py   one drill file: alert or procedure, fault by registry name with
                               its parameters, probes, steps, budgets, invariants; or a Python
                               drill named by ``module:function``
    StepSpec       _model.py   a runbook step bound to exactly one of a platform verb
                               (``restart: {service: api}``), ``run:`` (a shell command in a
                               service) or ``kubectl:``; or ``todo:`` (left by init)
    InvariantSpec  _model.py   checked after recovery: ``sql:`` that must return no rows, or an
                               ``http:`` check (service, port, path, expected status)

``load_project(dir)`` (``_load.py`` for drillbook.yaml and the lab, ``_drillfile.py`` for drill
files, ``_parts.py`` for their steps and invariants) reads every file with
:mod:`drillbook._yaml`'s marked nodes, so each complaint is a
``ConfigError`` ``FILE:LINE: field.path: what was expected``. What is checked, without starting
anything: the runbook parses (:mod:`drillbook.runbook`); the Compose file is YAML with a
``services:`` mapping; each role maps to a lab service; a fault or probe is a name of
``drillbook.faults.FAULTS`` / ``drillbook.probes.PROBES`` whose parameters its class accepts; a
service named anywhere is a role or a lab service; a verb is one of :data:`VERBS` with the
arguments ``DockerPlatform`` takes; budgets come from the runbook by the drill's ``alert:`` or
``procedure:`` (``drillbook.drills.budgets_for``, a procedure's stage windows), and one given may
tighten a runbook budget, never loosen it (the runbook's line named, as game-day plans do).

``TODO`` is a decision: a step ``todo:`` or a field whose value starts with ``TODO`` (a fault,
probes, a budget) is not an error while loading; ``Project.todos`` lists each as
``FILE:LINE: field: TODO ...`` and ``drillbook check-project`` fails (exit 2) listing them all,
because a drill with a step that does nothing would pass or fail for the wrong reason.

From files to the engine: :func:`to_drill` turns a ``DrillSpec`` into the existing
:class:`drillbook.drills.Drill` (fault and probes built by their registries, every service name
through the ``RoleMap``, verb and ``run:`` steps as :class:`drillbook.drills.Step` calls on
``DockerPlatform``, ``sql:``/``http:`` as :class:`drillbook.drills.Invariant`, budgets as
:class:`drillbook.sla.Budget` citing their lines); :func:`project_drills` adds the Python drills
(``module:function``, imported with the project directory on the path). The lab:
:func:`read_compose` (``_compose.py``) reads the Compose file into the Docker lab's
``ServiceSpec`` values and :func:`lab_settings` gives the ``LabSettings`` of a ``DockerLab``
running them (``lab: {builtin: trading-bot}``: the reference stack). The CLI's
``--project DIR`` (``drillbook.cli._subject``) and the pytest plugin's ``--drill-project`` go
through these two functions only; ``drillbook schedules`` builds its fault menu from
:func:`project_drills` (``drillbook.schedules.drill_menu``).

On Kubernetes: :func:`kubernetes_lab` is the ``KubernetesLab`` of the project's manifests (their
Namespace, the project's context); a drill file with ``env: kubernetes`` takes its fault and
probes from ``drillbook.faults.kubernetes.KUBERNETES_FAULTS`` and
``drillbook.probes.kubernetes.KUBERNETES_PROBES``, its verbs from :data:`KUBERNETES_VERBS`, and
its ``kubectl:`` lines run through the API (``drillbook.environments.kubernetes.kubectl_step``,
checked at load). Not yet: a project's alert rules run by a Prometheus in its lab.
"""

from drillbook.project._compose import read_compose
from drillbook.project._convert import to_drill
from drillbook.project._init import init_project
from drillbook.project._lab import kubernetes_lab, lab_settings, project_drills
from drillbook.project._load import BUILTIN, PROJECT_FILE, load_project
from drillbook.project._model import (
    KUBERNETES_VERBS,
    VERBS,
    DrillSpec,
    InvariantSpec,
    LabSource,
    Project,
    RoleMap,
    StepSpec,
)

__all__ = [
    "BUILTIN",
    "KUBERNETES_VERBS",
    "PROJECT_FILE",
    "VERBS",
    "DrillSpec",
    "InvariantSpec",
    "LabSource",
    "Project",
    "RoleMap",
    "StepSpec",
    "init_project",
    "kubernetes_lab",
    "lab_settings",
    "load_project",
    "project_drills",
    "read_compose",
    "to_drill",
]

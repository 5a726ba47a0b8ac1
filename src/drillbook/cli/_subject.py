"""What a command drills: a drill project's files (``--project DIR``), or the reference stack.

Every command that drills, checks or starts a lab takes ``--project DIR``. Without it the
current directory is the project when it holds ``drillbook.yaml``; otherwise the command works
on drillbook's own reference stack (the trading bot), the shipped example that
``examples/trading-bot/drillbook.yaml`` describes in the same format.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.environments.docker import LabSettings
from drillbook.errors import ConfigError
from drillbook.project import (
    PROJECT_FILE,
    Project,
    kubernetes_lab,
    lab_settings,
    load_project,
    project_drills,
)
from drillbook.runbook import Runbook

__all__ = ["Subject", "add_project_option", "subject_of"]


def add_project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        default=None,
        metavar="DIR",
        help=f"a drill project (DIR/{PROJECT_FILE}: your runbook, Compose file, drills); "
        f"default: the current directory when it holds {PROJECT_FILE}, else drillbook's "
        "reference stack (the trading bot)",
    )


@dataclass(frozen=True)
class Subject:
    """The runbook, the drills and the lab of one command's run."""

    runbook: Runbook
    project: Project | None = None

    @property
    def label(self) -> str:
        return f"project {self.project.name!r}" if self.project else "the reference stack"

    @property
    def builtin(self) -> bool:
        return self.project is None or bool(self.project.lab.builtin)

    def drills(self, env: str) -> list[Any]:
        if self.project is not None:
            return project_drills(self.project, env)
        if env == "kubernetes":
            from drillbook.drills.kubernetes import kubernetes_drills

            return kubernetes_drills(self.runbook)
        from drillbook.drills.catalog import docker_drills

        return docker_drills(self.runbook)

    def lab_settings(self, name: str, **settings: Any) -> LabSettings:
        if self.project is not None:
            return lab_settings(self.project, name, **settings)
        return LabSettings(name=name, **settings)

    def kubernetes_lab(
        self, kubeconfig: str | None, context: str | None, *, project_context: bool = True
    ) -> Any:
        """The Kubernetes lab of the subject: the project's manifests (``kubernetes_lab``),
        or the reference stack's ``fixtures/k8s``."""
        if self.project is not None:
            return kubernetes_lab(
                self.project, kubeconfig, context, project_context=project_context
            )
        from drillbook.environments.kubernetes import KubernetesLab

        return KubernetesLab(kubeconfig, context)

    @property
    def default_env(self) -> str:
        """The lab backend a command uses without ``--env``: the project's first (docker
        when it has a Compose file, kubernetes for manifests only), docker otherwise."""
        if self.project is not None and self.project.lab.envs:
            return self.project.lab.envs[0]
        return "docker"

    @property
    def kube_context(self) -> str | None:
        """The kube context the project names (``lab.context``), if any."""
        return self.project.lab.context if self.project is not None else None

    def services(self, drills: list[Any]) -> list[str]:
        """What a Docker lab needs for ``drills``: every service a fresh lab starts (the alert
        pipeline too, on the reference stack) and any a drill names."""
        from drillbook.environments.services import resolve_services

        catalog = self.lab_settings("drillbook").catalog
        return [s.name for s in resolve_services(None, catalog)] + [
            s for d in drills for s in d.services
        ]


def subject_of(args: argparse.Namespace, *, runbook_arg: str = "runbook") -> Subject:
    """The subject ``args`` name: ``--project DIR``, else ``./drillbook.yaml``, else the
    reference stack with ``--runbook FILE`` (or the shipped runbook). A project with TODOs
    left is refused, as ``drillbook check-project`` refuses it."""
    from drillbook.cli._runbook import runbook_of

    directory = getattr(args, "project", None)
    runbook_file = getattr(args, runbook_arg, None)
    if directory is None and Path(PROJECT_FILE).is_file():
        directory = "."
    if directory is None:
        return Subject(runbook_of(runbook_file))
    if runbook_file:
        raise ConfigError(
            f"--{runbook_arg.replace('_', '-')} {runbook_file} with project {directory}: "
            f"the project names its runbook in {PROJECT_FILE}",
            hint="drop the option, or change runbook: in the project file",
        )
    project = load_project(directory)
    if project.todos:
        listing = "\n".join(f"  {t}" for t in project.todos)
        raise ConfigError(
            f"{project.root / PROJECT_FILE}: {len(project.todos)} TODO(s) left:\n{listing}",
            hint="`drillbook check-project` lists them; bind each step and choose each fault",
        )
    return Subject(project.runbook, project)

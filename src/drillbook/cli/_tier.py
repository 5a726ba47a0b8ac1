"""The lab a command drills on, for ``drillbook run`` and ``drillbook gameday``.

A Docker lab (a fresh one, or one that is up: ``--lab``) or a Kubernetes lab (``--env
kubernetes``: a lab context named by ``--kubeconfig``/``--context``, else a local cluster of kwok
or real nodes started for the command and removed after it). :class:`Tier` starts it, builds
the drill runner for it, takes its picture for the residue check and stops it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from drillbook.cli._subject import Subject
from drillbook.drills import DrillRunner, Operator, default_runbook, kubernetes_state, lab_state
from drillbook.environments import ENVIRONMENTS
from drillbook.environments.docker import DockerLab, existing_lab
from drillbook.errors import ConfigError
from drillbook.reporting import RunEventHandler

__all__ = ["REAL_NODES_HINT", "SIMULATED_NODES", "Tier", "add_cluster_options", "drill_services"]

SIMULATED_NODES = "simulated (kwok) nodes"
#: what a drill left out on simulated nodes needs, and how to give it
REAL_NODES_HINT = "real nodes: --nodes real, or a real cluster's context"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def add_cluster_options(parser: argparse.ArgumentParser, *, started_for: str = "run") -> None:
    """``--env``, ``--kubeconfig``, ``--context`` and ``--nodes``: the lab backend and, on
    Kubernetes, which cluster (``started_for``: what a local cluster is started for)."""
    parser.add_argument(
        "--env",
        default=None,
        choices=(*ENVIRONMENTS.names(), "kubernetes"),
        help="lab backend: docker (default; a project of manifests only: kubernetes), or "
        "kubernetes: --kubeconfig/--context (a lab context), else a local control plane "
        f"started for the {started_for}",
    )
    parser.add_argument("--kubeconfig", default=None, help="with --env kubernetes (or KUBECONFIG)")
    parser.add_argument("--context", default=None, help="with --env kubernetes: a lab context")
    parser.add_argument(
        "--nodes",
        choices=("kwok", "real"),
        default="kwok",
        help="with --env kubernetes and no context named: the local cluster's nodes, kwok "
        "(simulated: the API's side of every drill, fast) or real (node containers whose "
        "kubelet runs the stack's images: processes, packets and volumes are real)",
    )


def drill_services(drills: list[Any], subject: Subject | None = None) -> list[str]:
    """What a Docker lab needs for ``drills``: every service a fresh lab starts (the alert
    pipeline too, on the reference stack) and any a drill names."""
    return (subject or Subject(default_runbook())).services(drills)


class Tier:
    """The lab of one tier for a command: start, runner, state for the residue check, stop.

    ``args`` carries ``env``, ``name``, ``lab``, ``kubeconfig``, ``context`` and ``nodes``
    (:func:`add_cluster_options`), and ``keep_lab`` where the command has it."""

    def __init__(self, args: argparse.Namespace, subject: Subject) -> None:
        self.args = args
        self.subject = subject
        self.plane: Any = None
        self.lab: Any = None

    @property
    def name(self) -> str:
        """The lab's name, and its lock's."""
        return str(self.args.lab or self.args.name)

    @property
    def kubernetes(self) -> bool:
        return bool(self.args.env == "kubernetes")

    def check(self) -> None:
        """A lab cluster named by --kubeconfig/--context (or KUBECONFIG) is checked before
        anything is written or started: a context outside the lab allow-list is refused."""
        if not self.kubernetes:
            return
        project = self.subject.project
        if project is not None and "kubernetes" not in project.lab.envs:
            raise ConfigError(
                f"--env kubernetes with {self.subject.label}: its lab is a Compose file only "
                "(no lab.manifests)",
                hint="run it with --env docker, or add lab.manifests: [FILE, ...]",
            )
        if self.args.lab:
            raise ConfigError(
                f"--lab {self.args.lab}: --lab names a Docker lab that is up",
                hint="with --env kubernetes, name a lab cluster with --kubeconfig/--context",
            )
        named = (
            self.args.kubeconfig
            or self.args.context
            or os.environ.get("KUBECONFIG")
            or self.subject.kube_context
        )
        if named:
            self.lab = self.subject.kubernetes_lab(self.args.kubeconfig, self.args.context)

    def attach(self, drills: list[Any]) -> None:
        """With --lab, the lab that is up, checked under its lock and before anything is
        written: ConfigError when it is not up or a service the drills need is not healthy."""
        if self.args.lab:
            self.lab = existing_lab(
                self.args.lab,
                drill_services(drills, self.subject),
                settings=self.subject.lab_settings(self.args.lab),
            )

    def start(self, say: Callable[[str], None] = _stderr) -> Any:
        """The lab, started (or, with --lab, the one that is up); ``say`` gets each line."""
        if self.args.lab:
            say(f"lab {self.lab.name!r} (--lab: already up, left up)")
            return self.lab
        if not self.kubernetes:
            self.lab = DockerLab(self.subject.lab_settings(self.args.name))
            say(f"lab {self.lab.name!r}")
            self.lab.start(on_event=lambda msg: say(f"  {msg}"))
            return self.lab
        from drillbook.environments.kubernetes import (
            ControlPlane,
            ControlPlaneBuild,
            RealCluster,
            default_cache,
        )

        if self.lab is None:  # no lab cluster named: a local cluster for the run
            build = ControlPlaneBuild(default_cache())
            if self.args.nodes == "real":
                self.plane = RealCluster(build, name=self.args.name)
            else:
                self.plane = ControlPlane(build, name=self.args.name)
            kubeconfig = self.plane.up(say=lambda msg: say(f"  {msg}"))
            self.lab = self.subject.kubernetes_lab(
                str(kubeconfig), self.args.context, project_context=False
            )
        say(f"lab {self.lab.name!r}")
        self.lab.start()
        return self.lab

    def runnable(self, drills: list[Any], say: Callable[[str], None] = _stderr) -> list[Any]:
        """On simulated (kwok) nodes, the reference drills that need processes are left out,
        said in one line (they run with ``--nodes real`` or on a real cluster)."""
        out = {d.name for d in self.left_out(drills)}
        if out:
            names = ", ".join(d.name for d in drills if d.name in out)
            say(f"  left out on {SIMULATED_NODES}: {names} (they need {REAL_NODES_HINT})")
        return [d for d in drills if d.name not in out]

    def left_out(self, drills: list[Any]) -> list[Any]:
        """The drills of ``drills`` this lab cannot run: on simulated (kwok) nodes, the
        reference drills that need processes (a project's drills are its own). Known before the
        lab starts: a local cluster's nodes are ``--nodes``, a named cluster's are asked."""
        project = self.subject.project
        own = project is not None and not project.lab.builtin  # a project's drills are its own
        if not self.kubernetes or own or not self.simulated_nodes():
            return []
        from drillbook.drills.kubernetes import REAL_NODES_ONLY

        return [d for d in drills if d.name in REAL_NODES_ONLY]

    def simulated_nodes(self) -> bool:
        """Whether the Kubernetes lab's nodes are kwok ones: the local cluster that
        :meth:`start` makes has ``--nodes``; a cluster named (or started) is asked."""
        if self.lab is None:
            return bool(self.args.nodes == "kwok")
        return not self.lab.real_nodes()

    def runner(
        self,
        profile: Any,
        handlers: Sequence[RunEventHandler],
        evidence: Path,
        operator: Operator | None = None,
    ) -> DrillRunner:
        """The drill runner of the lab: on Kubernetes, the lab's platform for the runbook's
        verbs, and the alert pipeline where it runs (real nodes; on kwok nodes the drills'
        probes on the API detect alone)."""
        if not self.kubernetes:
            return DrillRunner(
                self.lab, profile, handlers, evidence_dir=evidence, operator=operator
            )
        from drillbook.environments.kubernetes import KubernetesPlatform

        return DrillRunner(
            self.lab,
            profile,
            handlers,
            evidence_dir=evidence,
            operator=operator,
            platform=KubernetesPlatform(self.lab, evidence_dir=evidence),
        )

    def state(self) -> dict[str, Any]:
        """The lab's picture for the residue check."""
        if self.kubernetes:
            return kubernetes_state(self.lab)
        return lab_state(self.lab)

    def stop(self) -> None:
        if self.args.lab:  # not ours to remove: its faults were reverted by the runner
            print(
                f"lab {self.name!r} left up (--lab); `drillbook lab down --name {self.name}` "
                "removes it",
                file=sys.stderr,
            )
            return
        if getattr(self.args, "keep_lab", False):
            return
        if self.plane is not None:
            self.plane.down(quiet=True)  # the whole cluster goes, the lab with it
        elif self.lab is not None:
            self.lab.stop()

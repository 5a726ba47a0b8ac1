"""Helpers shared by the Docker-lab tests (fixtures live in the conftest next to them)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker

from drillbook.environments.docker import DockerLab, LabSettings, clean_leftovers, list_resources
from drillbook.environments.services import resolve_services
from drillbook.errors import WaitTimeout
from drillbook.waiting import Check, Wait

DRILLBOOK = [sys.executable, "-m", "drillbook"]
SRC = str(Path(__file__).resolve().parents[2] / "src")


def leftovers(client: docker.DockerClient, lab: str) -> list[str]:
    """``kind:name`` of everything in the engine labelled as belonging to ``lab``."""
    return sorted(
        f"{r.kind}:{r.name}" for r in list_resources(client) if r.labels.get("drillbook.lab") == lab
    )


def run_label(lab: DockerLab) -> str:
    """The run that started the lab's containers, read afresh: a lab started anew under the
    same name has another (``lab.run_id`` is kept from the object's own start)."""
    return DockerLab(LabSettings(name=lab.name), client=lab.client).run_id


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, **extra}


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``drillbook ARGS`` in a process of its own, as a user runs it: output captured, bounded
    in time, never raising on its exit code (the tests judge it)."""
    return subprocess.run(
        [*DRILLBOOK, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
        check=False,
    )


@contextmanager
def control_plane(name: str, nodes: int = 3) -> Iterator[Path]:
    """A real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes)
    on loopback, always stopped afterwards; its kubeconfig. Built by the bootstrap."""
    from drillbook.environments.kubernetes import ControlPlane, ControlPlaneBuild, default_cache

    plane = ControlPlane(ControlPlaneBuild(default_cache()), name=name, nodes=nodes)
    kubeconfig = plane.up(say=lambda _msg: None)
    try:
        yield kubeconfig
    finally:
        plane.down(quiet=True)


@contextmanager
def running_lab(prefix: str, services: tuple[str, ...]) -> Iterator[DockerLab]:
    """A fresh lab with ``services`` (and their dependencies), always removed afterwards."""
    lab = DockerLab(LabSettings(name=f"{prefix}-{uuid.uuid4().hex[:6]}", services=services))
    lab.start()
    try:
        yield lab
    finally:
        remove_lab(lab)


def remove_lab(lab: DockerLab) -> None:
    """Stop ``lab``, then remove whatever still carries its label (also when the stop fails)."""
    try:
        lab.stop()
    finally:
        clean_leftovers(lab.client, lab.name)


#: the services of the shared stack lab: data services, the fake exchange, the backend and the
#: backup job (no alert pipeline: with it the runner would also wait for alerts)
STACK = ("backend", "backup")

#: the services of a fresh `drillbook run` / `drillbook gameday` lab (what `drillbook lab up`
#: starts: the stack and its alert pipeline), which `--lab` requires of a lab that is up
DEFAULT = tuple(sorted(s.name for s in resolve_services(None)))


class LabPool:
    """The test session's shared Docker labs: one per set of services, started when a module
    first asks for it and removed at the end of the session (of the xdist worker).

    A module gets a lab only after a verified reset: every service healthy again and no
    residue (drillbook's residue check, ``drillbook.drills.residue``) against the state the
    lab had when it started. A lab that fails either is removed and replaced by a fresh one,
    said on stderr, so a module never inherits what an earlier one left. What the residue check
    does not compare (trades, positions, the ledger's rows) is what the system does by itself;
    tests that count rows count from what they find, never from zero.
    """

    def __init__(self) -> None:
        self._labs: dict[tuple[str, ...], tuple[DockerLab, dict[str, Any]]] = {}
        #: how each take went, for the tests of the pool: ``(services, "started"|"reused"|...)``
        self.log: list[tuple[tuple[str, ...], str]] = []

    def take(self, services: tuple[str, ...], *, settle_s: float = 60.0) -> DockerLab:
        from drillbook.drills import lab_state

        key = tuple(sorted(services))
        held = self._labs.get(key)
        if held is not None:
            lab, baseline = held
            problems = self.verify(lab, baseline, settle_s=settle_s)
            if not problems:
                self.log.append((key, "reused"))
                return lab
            print(
                f"lab pool: {lab.name} not reset ({'; '.join(problems)[:500]}): a fresh lab",
                file=sys.stderr,
            )
            remove_lab(lab)
            self.log.append((key, "replaced"))
        lab = DockerLab(LabSettings(name=f"pool-{uuid.uuid4().hex[:6]}", services=key))
        try:
            lab.start()
            self._labs[key] = (lab, lab_state(lab))
        except BaseException:
            remove_lab(lab)
            raise
        self.log.append((key, "started"))
        return lab

    @staticmethod
    def verify(lab: DockerLab, baseline: dict[str, Any], *, settle_s: float) -> list[str]:
        """What keeps ``lab`` from being as it started: unhealthy services (after up to
        ``settle_s`` for the ones a test restarted last), then each line of residue."""
        from drillbook.drills import lab_state, residue

        def healthy() -> Check:
            sick = [f"{r.service} {r.state}" for r in lab.status() if not r.healthy]
            return Check(not sick, ", ".join(sick))

        try:
            Wait(timeout_s=settle_s, poll_s=0.5).until(healthy, "the lab healthy", retry_on=())
            return residue(baseline, lab_state(lab))
        except WaitTimeout as exc:
            return [f"unhealthy after {settle_s:g} s: {exc.observed}"]
        except Exception as exc:  # a lab removed under us: not reusable
            return [f"unreadable: {type(exc).__name__}: {exc}"]

    def close(self) -> None:
        for lab, _ in self._labs.values():
            remove_lab(lab)
        self._labs.clear()


def kubernetes_runner(lab: Any, profile: Any, evidence: Path) -> Any:
    """The drill runner of a Kubernetes lab: its alert pipeline where it runs (real nodes),
    else detection from the API alone (the drills' probes); the lab's own platform writing
    evidence under ``evidence``."""
    from drillbook.drills import DrillRunner
    from drillbook.environments.kubernetes import KubernetesPlatform

    return DrillRunner(lab, profile, platform=KubernetesPlatform(lab, evidence_dir=evidence))


def run_sabotaged(lab: Any, drill: Any, profile: Any, evidence: Path) -> Any:
    """``drill`` with its remediation removed, run on ``lab``: it must breach
    ``time_to_recover``, and the revert must still leave the lab steady. The breach."""
    import dataclasses

    import pytest

    from drillbook.drills import Step
    from drillbook.errors import SLABreached

    sabotaged = dataclasses.replace(drill, steps=(Step("remediation removed", lambda p: None),))
    result = kubernetes_runner(lab, profile, evidence).run(sabotaged)
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase.startswith("time_to_recover")
    assert result.reverted
    assert result.steady_after  # the revert healed what the remediation did not
    return info.value


def run_harmful(
    lab: Any, drill: Any, profile: Any, evidence: Path, *, service: str, seen: str = "scaled to 0"
) -> Any:
    """``drill`` with its remediation replaced by a harmful one, ``kubectl scale <service>
    --replicas=0`` (a runbook line edited wrong), run on ``lab``: for a fault the platform heals
    by itself (a ReplicaSet replaces killed pods whatever the runbook does), removing the
    remediation proves nothing, a wrong one must still breach ``time_to_recover``. The
    teardown puts the service's remembered configuration back, and the lab must be steady."""
    import dataclasses

    import pytest

    from drillbook.drills import Step
    from drillbook.errors import SLABreached

    harmful = dataclasses.replace(
        drill,
        setup=(*drill.setup, Step(f"remember {service}", lambda p: p.remember(service))),
        steps=(
            Step(f"kubectl scale {service} --replicas=0 (wrong)", lambda p: p.scale(service, 0)),
        ),
        teardown=(Step(f"restore {service}", lambda p: p.restore(service)), *drill.teardown),
    )
    result = kubernetes_runner(lab, profile, evidence).run(harmful)
    with pytest.raises(SLABreached) as info:
        result.raise_for_outcome()
    assert info.value.phase.startswith("time_to_recover")
    assert seen in str(info.value), info.value  # the probes saw what the wrong step did
    assert result.steady_after
    return info.value

"""The catalogue's drills as Chaos Toolkit activities, so every drill is also an experiment.

``experiments/<drill>.yaml`` (written by ``drillbook experiments export``) calls these with the
drill's name: set up, check steady state, inject and prove the fault, wait for a probe to see
it and for the alert to fire, run each runbook step, wait for recovery, check the invariants;
the rollback reverts the fault and tears the setup down. The catalogue is built once per
process, so what a setup step remembers (the key in use) is there for the teardown of the same
``chaos run``.

Each activity takes ``configuration`` (``drillbook_lab`` names the lab; ``drillbook_evidence``
a directory for captured evidence) and ``secrets`` like every Chaos Toolkit activity.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from typing import Any

from chaoslib.exceptions import ActivityFailed

from drillbook.drills._budgets import default_runbook
from drillbook.drills._model import Drill
from drillbook.environments import LabLock
from drillbook.environments.docker import DockerPlatform
from drillbook.experiments._lab import activity, lab_from
from drillbook.waiting import Check

__all__ = [
    "drill_detected",
    "drill_inject",
    "drill_invariants",
    "drill_recovered",
    "drill_revert",
    "drill_setup",
    "drill_steady",
    "drill_step",
    "experiment_for",
    "export_experiments",
]

Configuration = dict[str, Any] | None
Secrets = dict[str, Any] | None
POLL_S = 0.1
_LOCKED: set[str] = set()  # labs this process locked at drill_inject, released at drill_revert


def _lock(lab: str) -> None:
    """Hold the lab's lock from the injection to the rollback (another run on the same lab is
    refused, naming this one); the kernel drops it if ``chaos run`` is killed."""
    if lab not in _LOCKED:
        LabLock(lab).acquire()
        _LOCKED.add(lab)


def _unlock(lab: str) -> None:
    if lab in _LOCKED:
        _LOCKED.discard(lab)
        LabLock(lab).release()


@cache
def _catalog() -> dict[str, Drill]:
    from drillbook.drills.catalog import docker_drills

    return {d.name: d for d in docker_drills(default_runbook())}


def _drill(name: str) -> Drill:
    try:
        return _catalog()[name]
    except KeyError:
        raise ActivityFailed(
            f"no drill {name!r}; drills: {', '.join(_catalog())} (`drillbook list`)"
        ) from None


@cache
def _scratch_evidence() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="drillbook-chaos-evidence-"))


def _platform(configuration: Configuration) -> DockerPlatform:
    """The lab's platform; evidence goes to ``drillbook_evidence`` (one directory for the whole
    run, so the invariant that checks it sees what the steps wrote)."""
    folder = (configuration or {}).get("drillbook_evidence")
    return DockerPlatform(
        lab_from(configuration), evidence_dir=Path(folder) if folder else _scratch_evidence()
    )


def _probes_pass(drill: Drill, platform: DockerPlatform, *, recovered: bool = False) -> Check:
    probes = drill.recovered_when if recovered and drill.recovered_when else drill.probes
    for probe in probes:
        result = probe.check(platform.lab)
        if not result.ok:
            return Check(False, f"{probe.name}: {result.detail}")
    return Check(True, "all probes pass")


@activity
def drill_setup(drill: str, configuration: Configuration = None, secrets: Secrets = None) -> int:
    """Run the drill's setup steps (untimed: its starting condition); return how many ran."""
    d, platform = _drill(drill), _platform(configuration)
    for step in d.setup:
        step.run(platform)
    return len(d.setup)


@activity
def drill_steady(
    drill: str,
    or_recovered: bool = False,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> bool:
    """Whether every probe of the drill passes (its steady state); with ``or_recovered``, also
    when its recovered state holds (a contained breach, checked after the method and before
    the rollback clears the intruder's traces)."""
    d, platform = _drill(drill), _platform(configuration)
    if _probes_pass(d, platform).ok:
        return True
    return or_recovered and bool(d.recovered_when) and _probes_pass(d, platform, recovered=True).ok


@activity
def drill_inject(
    drill: str, timeout: float = 30, configuration: Configuration = None, secrets: Secrets = None
) -> str:
    """Inject the drill's fault and wait until it is proven in effect."""
    d, platform = _drill(drill), _platform(configuration)
    _lock(platform.lab.name)
    d.fault.inject(platform.lab)
    deadline = time.monotonic() + float(timeout)
    while True:
        check = d.fault.verify_active(platform.lab)
        if check.ok:
            return f"{d.fault.name}: {check.detail}"
        if time.monotonic() > deadline:
            raise ActivityFailed(f"{d.fault.name} not in effect after {timeout}s: {check.detail}")
        time.sleep(POLL_S)


@activity
def drill_detected(
    drill: str, timeout: float = 60, configuration: Configuration = None, secrets: Secrets = None
) -> str:
    """Wait until a probe of the drill fails (the fault is seen); return what it saw. A
    planned drill (maintenance, a controlled shutdown) has nothing to detect."""
    d, platform = _drill(drill), _platform(configuration)
    if d.planned:
        return f"planned: {d.fault.name}"
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        check = _probes_pass(d, platform)
        if not check.ok:
            return check.detail
        time.sleep(POLL_S)
    raise ActivityFailed(f"no probe of {drill} noticed {d.fault.name} within {timeout}s")


@activity
def drill_step(
    drill: str, step: str, configuration: Configuration = None, secrets: Secrets = None
) -> str:
    """Run one runbook step of the drill, by its name (as `drillbook list` and the journal
    show it)."""
    d, platform = _drill(drill), _platform(configuration)
    for candidate in d.steps:
        if candidate.name == step:
            candidate.run(platform)
            return candidate.runbook or candidate.name
    names = "; ".join(s.name for s in d.steps)
    raise ActivityFailed(f"drill {drill} has no step {step!r}; its steps: {names}")


@activity
def drill_recovered(
    drill: str,
    timeout: float = 120,
    settle: float = 2,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> float:
    """Wait until the drill's recovered state holds for ``settle`` seconds; return the seconds
    waited. Fails after ``timeout`` with what the probes saw last."""
    d, platform = _drill(drill), _platform(configuration)
    started = time.monotonic()
    streak: float | None = None
    last = Check(False, "not looked yet")
    while time.monotonic() - started < float(timeout):
        last = _probes_pass(d, platform, recovered=True)
        now = time.monotonic()
        if last.ok:
            streak = now if streak is None else streak
            if now - streak >= float(settle):
                return round(streak - started, 3)
        else:
            streak = None
        time.sleep(POLL_S)
    raise ActivityFailed(f"{drill} not recovered within {timeout}s: {last.detail}")


@activity
def drill_invariants(
    drill: str, configuration: Configuration = None, secrets: Secrets = None
) -> list[str]:
    """Check the drill's invariants; fail naming each one violated."""
    d, platform = _drill(drill), _platform(configuration)
    violated = []
    for invariant in d.invariants:
        check = invariant.check(platform)
        if not check.ok:
            violated.append(f"{invariant.name}: {check.detail}")
    if violated:
        raise ActivityFailed("invariant violated: " + "; ".join(violated))
    return [i.name for i in d.invariants]


@activity
def drill_revert(drill: str, configuration: Configuration = None, secrets: Secrets = None) -> str:
    """The rollback: revert the drill's fault, then run its teardown (always both)."""
    d, platform = _drill(drill), _platform(configuration)
    try:
        d.fault.revert(platform.lab)
    finally:
        try:
            for step in d.teardown:
                step.run(platform)
        finally:
            _unlock(platform.lab.name)
    return f"reverted {d.fault.name}"


def _activity(kind: str, title: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "name": title,
        "provider": {
            "type": "python",
            "module": "drillbook.drills.chaos"
            if func.startswith("drill_")
            else "drillbook.experiments.probes",
            "func": func,
            "arguments": arguments,
        },
    }


def experiment_for(drill: Drill, alerts: set[str]) -> dict[str, Any]:
    """The Chaos Toolkit experiment of ``drill``; ``alerts`` are the alert rules the lab has
    (the experiment waits for the drill's alert to fire when there is a rule for it)."""
    name = drill.name
    method: list[dict[str, Any]] = []
    if drill.setup:
        method.append(_activity("action", "setup", "drill_setup", drill=name))
        method.append(_activity("probe", "steady-after-setup", "drill_steady", drill=name))
    method.append(_activity("action", "inject-fault", "drill_inject", drill=name))
    method.append(_activity("probe", "fault-detected", "drill_detected", drill=name))
    if drill.alert in alerts:
        method.append(
            _activity(
                "probe", f"{drill.alert}-fires", "wait_for_alert", name=drill.alert, state="firing"
            )
        )
    for i, step in enumerate(drill.steps, 1):
        method.append(
            _activity("action", f"runbook-step-{i}", "drill_step", drill=name, step=step.name)
        )
    method.append(_activity("probe", "recovered", "drill_recovered", drill=name))
    method.append(_activity("probe", "invariants-hold", "drill_invariants", drill=name))
    steady = (
        _activity("probe", "steady-state", "drill_steady", drill=name, or_recovered=True)
        if drill.recovered_when
        else _activity("probe", "steady-state", "drill_steady", drill=name)
    )
    steady["tolerance"] = True
    return {
        "version": "1.0.0",
        "title": f"{drill.alert}: {name}",
        "description": (
            f"{drill.description}. Generated from drillbook's catalogue by `drillbook experiments "
            f"export`; run against a lab that is up: `DRILLBOOK_LAB=drillbook chaos run "
            f"experiments/{name}.yaml`."
        ),
        "tags": [drill.alert, "docker", "drillbook"],
        "configuration": {
            "drillbook_lab": {"type": "env", "key": "DRILLBOOK_LAB", "default": "drillbook"},
            "drillbook_evidence": {
                "type": "env",
                "key": "DRILLBOOK_EVIDENCE",
                "default": f"reports/evidence/{name}",
            },
        },
        "steady-state-hypothesis": {"title": "the drill's probes pass", "probes": [steady]},
        "method": method,
        "rollbacks": [_activity("action", "revert-fault-and-teardown", "drill_revert", drill=name)],
    }


def export_experiments(folder: Path, alerts: set[str]) -> dict[Path, str]:
    """The YAML text of every catalogue drill's experiment, by the path it belongs at."""
    import yaml

    out = {}
    for drill in _catalog().values():
        text = yaml.safe_dump(experiment_for(drill, alerts), sort_keys=False, width=100)
        out[folder / f"{drill.name}.yaml"] = (
            "# generated by `drillbook experiments export`\n" + text
        )
    return out

"""One drill definition, two backends: the portable drills resolve to each catalogue with the
same name, alert, steps, budgets and setup, and only the parts a backend supplies differ."""

from __future__ import annotations

import contextlib

import pytest

from drillbook.drills import Drill, Step, default_runbook
from drillbook.drills._model import Each, PortableDrill
from drillbook.drills.catalog import docker_drills
from drillbook.drills.kubernetes import kubernetes_drills
from drillbook.drills.portable import portable_drills
from drillbook.environments.docker import DockerPlatform, docker_memory
from drillbook.environments.kubernetes import KubernetesPlatform
from drillbook.errors import ConfigError, LabError
from drillbook.faults import KillContainer
from drillbook.faults.kubernetes import PodKill
from drillbook.probes import ServiceHealthy
from drillbook.probes.kubernetes import WorkloadReady
from drillbook.sla import Budget

RUNBOOK = default_runbook()
PORTABLE = portable_drills(RUNBOOK)
DOCKER = {d.name: d for d in docker_drills(RUNBOOK)}
KUBERNETES = {d.name: d for d in kubernetes_drills(RUNBOOK)}


def test_portable_drills_cover_the_runbooks_four_critical_alerts() -> None:
    assert {d.alert for d in PORTABLE} >= {
        "TradingBotDown",
        "DatabaseDown",
        "ExchangeConnectionLost",
        "HighRiskExposure",
    }
    assert len({d.name for d in PORTABLE}) == len(PORTABLE) >= 6


def _shape(steps: tuple[Step[object], ...]) -> list[tuple[str, str, object]]:
    def code(run: object) -> object:
        return getattr(run, "__code__", None) or getattr(run, "__func__").__code__  # noqa: B009

    return [(s.name, s.runbook, code(s.run)) for s in steps]


@pytest.mark.parametrize("portable", PORTABLE, ids=lambda d: d.name)
def test_each_backend_runs_the_same_definition(portable: PortableDrill) -> None:
    docker, kubernetes = DOCKER[portable.name], KUBERNETES[portable.name]
    for drill in (docker, kubernetes):
        assert drill.alert == portable.alert
        # the same steps: names, runbook lines and the very code each runs
        assert _shape(drill.steps) == _shape(portable.steps)
        assert _shape(drill.setup) == _shape(portable.setup)
        assert _shape(drill.teardown) == _shape(portable.teardown)
        assert drill.budgets == portable.budgets
        assert drill.description.startswith(portable.description)
    # the parts a backend supplies are its own; the rest is shared
    for field in ("fault", "probes", "invariants", "alert_fires"):
        part = getattr(portable, field)
        mine = (part.docker, part.kubernetes) if isinstance(part, Each) else (part, part)
        if field in ("invariants", "probes"):  # by name: each catalogue builds its own
            mine = tuple(tuple(i.name for i in p) for p in mine)
            got = tuple(tuple(i.name for i in getattr(d, field)) for d in (docker, kubernetes))
        else:
            got = (getattr(docker, field), getattr(kubernetes, field))
        assert got == mine, field


def test_steps_use_only_platform_verbs() -> None:
    """Each portable step runs against any object with the Platform verbs: a recording one
    shows which verbs a step calls, and none is a backend's own (drain, rotate_secret)."""
    from drillbook.environments.base import Platform

    verbs = {
        name
        for name in dir(Platform)
        if not name.startswith("_") and callable(getattr(Platform, name, None))
    }
    called: list[str] = []

    rows = iter(range(10**6))  # a count that grows: whatever a step waits for comes

    class Recorder:
        tier = "docker"
        evidence_dir = None
        lab = None

        def __getattr__(self, name: str) -> object:
            called.append(name)

            def verb(*args: object, **kwargs: object) -> object:
                if name == "http":
                    return 200, {
                        "exposure_ratio": 1,
                        "exposure_limit_ratio": 1,
                        "dependencies": {"binance": {"up": False}, "kucoin": {"up": False}},
                    }
                if name == "sql":
                    return [(str(next(rows)),)]
                if name in ("list_backups", "create_backup", "restore_backup"):
                    return "/backups/b.sql.gz 1 KiB verified\ndata_integrity_check(): empty"
                if name == "exec":
                    return type("R", (), {"output": "ok", "exit_code": 0})()
                if name == "describe":
                    return "backend-1\tlast=OOMKilled (exit 137)\n"
                return None

            return verb

    for drill in PORTABLE:
        for step in (*drill.setup, *drill.steps, *drill.teardown):
            # a step that hands the lab to a function of its own (the replay of the exchange's
            # fills) fails on the recorder's lab of None: the verbs it called are recorded
            with contextlib.suppress(AttributeError, TypeError, KeyError, LabError):
                step.run(Recorder())  # type: ignore[arg-type]
    assert called
    assert set(called) <= verbs, set(called) - verbs


def test_each_picks_the_backends_part_and_refuses_an_unknown_backend() -> None:
    part = Each(KillContainer("backend"), PodKill("backend", qty=3))
    assert part.on("docker") == KillContainer("backend")
    assert part.on("kubernetes") == PodKill("backend", qty=3)
    with pytest.raises(ConfigError, match="unknown lab backend 'nomad'"):
        part.on("nomad")  # type: ignore[arg-type]


def test_a_portable_drill_resolves_its_parts_and_notes_per_backend() -> None:
    step: Step[object] = Step("kubectl rollout restart deployment/backend", lambda p: None)
    portable = PortableDrill(
        "backend-killed",
        "TradingBotDown",
        Each(KillContainer("backend"), PodKill("backend", qty=3)),
        Each((ServiceHealthy("backend"),), (WorkloadReady("backend"),)),
        (step,),
        (Budget("time_to_recover", 60, "runbook"),),
        alert_fires=Each(True, False),
        description="every backend process killed",
        notes=Each("", "the ReplicaSet heals it"),
    )
    docker, kubernetes = portable.on("docker"), portable.on("kubernetes")
    assert isinstance(docker, Drill)
    assert docker.fault == KillContainer("backend")
    assert kubernetes.probes == (WorkloadReady("backend"),)
    assert (docker.alert_fires, kubernetes.alert_fires) == (True, False)
    assert docker.description == "every backend process killed"
    assert kubernetes.description == "every backend process killed. the ReplicaSet heals it"


@pytest.mark.parametrize(
    ("quantity", "docker"),
    [("4Gi", "4g"), ("48Mi", "48m"), ("512Ki", "512k"), ("4g", "4g"), ("1073741824", "1073741824")],
)
def test_kubernetes_memory_quantities_become_dockers(quantity: str, docker: str) -> None:
    assert docker_memory(quantity) == docker


def test_a_memory_quantity_docker_cannot_take_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"memory limit '4 GiB': expected a quantity such as 4Gi"):
        docker_memory("4 GiB")


def test_both_platform_classes_declare_their_tier() -> None:
    assert DockerPlatform.tier == "docker"
    assert KubernetesPlatform.tier == "kubernetes"

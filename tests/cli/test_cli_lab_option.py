"""`--lab NAME` without a lab: what it may be combined with, what a lab that is up must have
before anything is written, and that a --lab lab is neither started nor removed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from drillbook.cli import _drills, _tier, main
from drillbook.environments.base import ServiceStatus
from drillbook.environments.docker import DockerLab, existing_lab
from drillbook.errors import ConfigError
from support.labtools import DEFAULT

SMOKE = Path(__file__).resolve().parents[2] / "drills" / "gameday" / "smoke.yaml"


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--lab", "a", "--name", "b"],
        ["gameday", str(SMOKE), "--lab", "a", "--name", "b"],
        ["runbook", "check", "--lab", "a", "--name", "b"],
    ],
)
def test_lab_and_name_exclude_each_other(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "argument --name: not allowed with argument --lab" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["run", "--env", "kubernetes", "--lab", "a"], "--lab a: --lab names a Docker lab"),
        (["runbook", "check", "--env", "offline", "--lab", "a"], "checked with --env docker"),
    ],
)
def test_lab_is_for_the_docker_lab(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err


class _Rows:
    """A lab's `is_up` and `status` as a test sets them (the engine is never asked)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, up: bool, rows: list[ServiceStatus]):
        monkeypatch.setattr(DockerLab, "is_up", lambda self: up)
        monkeypatch.setattr(DockerLab, "status", lambda self: rows)


def _row(service: str, healthy: bool = True, detail: str = "ok") -> ServiceStatus:
    return ServiceStatus(service, f"lab-{service}", "running", healthy, detail, "")


def test_a_lab_that_is_not_up_names_it_and_how_to_start_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _Rows(monkeypatch, False, [])
    with pytest.raises(ConfigError) as info:
        existing_lab("mine", client=object())  # type: ignore[arg-type]
    assert str(info.value) == (
        "--lab mine: no lab 'mine' is up\nHint: start it with `drillbook lab up --name mine`, "
        "or leave out --lab to start a fresh one"
    )


def test_a_service_missing_or_unhealthy_is_refused_with_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [_row(s) for s in DEFAULT if s not in ("prometheus", "frontend")]
    rows = [_row("backend", False, "HTTP 503") if r.service == "backend" else r for r in rows]
    _Rows(monkeypatch, True, rows)
    with pytest.raises(ConfigError) as info:
        existing_lab("mine", client=object())  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(
        "--lab mine: lab 'mine' is not ready (missing frontend, prometheus; "
        "unhealthy: backend HTTP 503)"
    )
    assert "`drillbook lab up --name mine`" in message
    # what the caller needs, and their dependencies, is all that is asked for
    lab = existing_lab("mine", ("exchange",), client=object())  # type: ignore[arg-type]
    assert lab.name == "mine"
    with pytest.raises(ConfigError, match=r"unhealthy: backend HTTP 503\)"):
        existing_lab("mine", ("backend",), client=object())  # type: ignore[arg-type]


class _Lab:
    def __init__(self) -> None:
        self.name, self.started, self.stopped = "mine", 0, 0

    def start(self, **_: Any) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1


def _args(**kw: Any) -> argparse.Namespace:
    base = {"env": "docker", "lab": None, "name": "drillbook-run", "keep_lab": False}
    return argparse.Namespace(**(base | kw))


def test_a_lab_given_with_lab_is_neither_started_nor_removed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = _Lab()
    monkeypatch.setattr(_tier, "existing_lab", lambda name, needs, settings: lab)
    tier = _tier.Tier(_args(lab="mine"), _drills.subject_of(_args(lab="mine")))
    assert tier.name == "mine"  # the lock's name too
    tier.attach([])
    assert tier.start() is lab
    tier.stop()
    assert (lab.started, lab.stopped) == (0, 0)
    err = capsys.readouterr().err
    assert "lab 'mine' (--lab: already up, left up)" in err
    assert "lab 'mine' left up (--lab); `drillbook lab down --name mine` removes it" in err
    own = _tier.Tier(_args(), _drills.subject_of(_args()))
    own.lab = lab
    own.stop()  # a lab the run started is removed
    assert lab.stopped == 1

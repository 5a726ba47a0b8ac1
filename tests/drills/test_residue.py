"""Residue: a change a drill forgets to undo is found, named, and never shows a secret."""

from __future__ import annotations

import pytest

from drillbook.drills import lab_state, residue
from drillbook.environments.docker import DockerLab, DockerPlatform


def test_residue_names_each_difference() -> None:
    before = {"service backend": {"env": {"A": "1", "B": "2"}, "memory": 0}, "x": [1]}
    after = {"service backend": {"env": {"A": "1", "C": "3"}, "memory": 512}, "x": [1]}
    assert residue(before, after) == [
        "service backend env B: '2' -> absent",
        "service backend env C: absent -> '3'",
        "service backend memory: 0 -> 512",
    ]
    assert residue(before, before) == []


@pytest.mark.docker
def test_a_forgotten_env_change_is_residue_and_secrets_stay_hidden(lab: DockerLab) -> None:
    platform = DockerPlatform(lab)
    before = lab_state(lab)
    text = repr(before)
    env = lab.container("backend").attrs["Config"]["Env"]
    secrets = [
        e.split("=", 1)[1] for e in env if e.startswith(("BINANCE_API_SECRET=", "DATABASE_URL="))
    ]
    assert secrets, "the backend should carry an exchange secret and a database URL"
    for value in secrets:
        assert value not in text
    try:
        platform.set_env("backend", {"API_RATE_LIMIT_DELAY": "1000"})
        left = residue(before, lab_state(lab))
        assert left == ["service backend env API_RATE_LIMIT_DELAY: absent -> '1000'"]
    finally:
        platform.set_env("backend", {"API_RATE_LIMIT_DELAY": None})
    assert residue(before, lab_state(lab)) == []


def test_redact_replaces_every_secret_longest_first() -> None:
    from drillbook.environments.docker._platform import redact

    text = "url postgresql://bot:s3cr3t-pass@postgres/db key s3cr3t-pass"
    assert redact(text, ["s3cr3t-pass", "postgresql://bot:s3cr3t-pass@postgres/db"]) == (
        "url [REDACTED] key [REDACTED]"
    )
    assert redact("nothing here", ["s3cr3t"]) == "nothing here"


def test_a_kubernetes_template_change_is_named_by_its_field() -> None:
    from drillbook.drills._residue import _flat

    before = {
        "t": _flat(
            {
                "metadata": {"labels": {"app": "b"}, "annotations": {}},
                "spec": {"containers": [{"name": "b", "command": ["python3"]}]},
            }
        )
    }
    same = {
        "t": _flat(
            {
                "metadata": {"labels": {"app": "b"}},
                "spec": {"containers": [{"name": "b", "command": ["python3"]}]},
            }
        )
    }
    after = {
        "t": _flat(
            {
                "metadata": {"labels": {"app": "b"}},
                "spec": {"containers": [{"name": "b", "command": ["sh"]}]},
            }
        )
    }
    assert residue(before, same) == []
    assert residue(before, after) == ["t spec.containers[0].command: ['python3'] -> ['sh']"]

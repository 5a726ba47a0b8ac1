"""The runbook's platform verbs on the Docker lab: scale, rollout undo, secret rotation."""

from __future__ import annotations

import json

import pytest

from drillbook.environments.docker import DockerLab, DockerPlatform
from drillbook.errors import ConfigError, LabError
from drillbook.faults.exchange import admin_for, current_exchange_key, new_exchange_key
from drillbook.probes import ServiceHealthy
from drillbook.waiting import Check, Wait

pytestmark = pytest.mark.docker


def test_scale_to_zero_and_back(lab: DockerLab) -> None:
    platform = DockerPlatform(lab)
    assert platform.scale("backend", 0) == 0
    assert lab.replicas("backend") == 0
    assert not ServiceHealthy("backend").check(lab).ok
    assert platform.scale("backend", 1) == 1
    assert ServiceHealthy("backend").check(lab).ok


def test_scale_up_runs_replicas_behind_one_name(lab: DockerLab) -> None:
    platform = DockerPlatform(lab)
    lookup = [
        "python3",
        "-c",
        "import socket; print(len(set(socket.gethostbyname_ex('redis-service')[2])))",
    ]
    try:
        assert platform.scale("redis", 3) == 3
        assert lab.replicas("redis") == 3
        assert platform.exec("backend", lookup).output.strip() == "3"
        names = [row.service for row in lab.status()]
        assert "redis#2" in names
        assert "redis#3" in names
        assert list(lab.services()).count("redis") == 1  # handles name the primary only
    finally:
        platform.scale("redis", 1)
    assert lab.replicas("redis") == 1
    assert platform.exec("backend", lookup).output.strip() == "1"


def test_scale_refuses_what_the_lab_cannot_do(lab: DockerLab) -> None:
    with pytest.raises(ConfigError, match="keeps its data in a volume"):
        lab.scale("postgres", 2)
    with pytest.raises(ConfigError, match="expected 0 to 10 replicas"):
        lab.scale("redis", -1)


def test_rollout_undo_returns_to_the_previous_revision(lab: DockerLab) -> None:
    platform = DockerPlatform(lab)

    def env() -> dict[str, str]:
        raw = lab.container("backend").attrs["Config"]["Env"]
        return dict(item.split("=", 1) for item in raw)

    start = lab.revision("backend")
    platform.set_env("backend", {"API_RATE_LIMIT_DELAY": "1000"})
    assert env()["API_RATE_LIMIT_DELAY"] == "1000"
    platform.rollout_undo("backend")
    assert "API_RATE_LIMIT_DELAY" not in env()
    assert lab.revision("backend") == start + 2
    platform.rollout_undo("backend")  # undo of the undo: forward again, as kubectl does
    assert env()["API_RATE_LIMIT_DELAY"] == "1000"
    platform.set_env("backend", {"API_RATE_LIMIT_DELAY": None})
    assert ServiceHealthy("backend").check(lab).ok


def test_rollout_undo_without_history_is_refused(lab: DockerLab) -> None:
    with pytest.raises(LabError, match="no previous revision"):
        lab.rollout_undo("redis")


def test_rotate_the_exchange_key_as_the_runbook_does(lab: DockerLab) -> None:
    """API key compromise: new key at the exchange (same account), secret updated, rollout,
    the old key revoked; the bot trades on with the new key and the secret is never shown."""
    platform = DockerPlatform(lab)
    admin = admin_for(lab)
    old_key = current_exchange_key(lab, "binance")
    new = new_exchange_key(lab, "binance")
    assert new["BINANCE_API_KEY"] != old_key
    (handle,) = platform.rotate_secret("exchange-api-secrets", new)
    admin.revoke_key(old_key)
    try:
        assert current_exchange_key(lab, "binance") == new["BINANCE_API_KEY"]

        # the old key is refused from here: every new fill on the account is the new key's
        before = len(admin.fills(new["BINANCE_API_KEY"]))

        def trades_with_new_key() -> Check:
            now = len(admin.fills(new["BINANCE_API_KEY"]))
            return Check(now > before, f"{now - before} fills since the rotation")

        Wait(timeout_s=30, poll_s=0.5).until(trades_with_new_key, "a trade with the new key")
        shown = json.dumps([row.__dict__ for row in lab.status()]) + str(handle)
        assert new["BINANCE_API_SECRET"] not in shown
    finally:
        admin.reset()  # the revocation is a fault in the fake: lift it for the next tests


def test_rotate_secret_rejects_unknown_names(lab: DockerLab) -> None:
    platform = DockerPlatform(lab)
    with pytest.raises(ConfigError, match="unknown secret 'db-secrets'"):
        platform.rotate_secret("db-secrets", {"X": "1"})
    with pytest.raises(ConfigError, match="POSTGRES_PASSWORD"):
        platform.rotate_secret("exchange-api-secrets", {"POSTGRES_PASSWORD": "x"})


def test_the_docker_platform_speaks_the_platform_protocol(lab: DockerLab) -> None:
    from drillbook.environments.base import Platform

    assert isinstance(DockerPlatform(lab), Platform)


def test_http_reaches_a_container_port_through_its_published_port(lab: DockerLab) -> None:
    platform = DockerPlatform(lab)
    status, health = platform.http("backend", 8080, "/health")
    assert status == 200
    assert health["dependencies"]["binance"]["up"] is True
    with pytest.raises(LabError, match=r"(?s)publishes no port 9999.*its ports: .*=8080"):
        platform.http("backend", 9999, "/health")


def test_remember_and_restore_put_back_env_limits_and_replicas(lab: DockerLab) -> None:
    platform = DockerPlatform(lab)
    before = platform.describe("backend")
    env_before = lab.container("backend").attrs["Config"]["Env"]
    platform.remember("backend")
    platform.set_env("backend", {"API_RATE_LIMIT_DELAY": "1000"})
    platform.patch_resources("backend", "1Gi")
    assert "limits={'memory': 1073741824}" in platform.describe("backend")
    platform.restore("backend")
    assert sorted(lab.container("backend").attrs["Config"]["Env"]) == sorted(env_before)
    assert platform.describe("backend").split("\t")[-1] == before.split("\t")[-1]
    platform.restore("backend")  # nothing remembered any more: nothing done
    assert ServiceHealthy("backend").check(lab).ok
